import {describe, expect, it} from 'vitest';
import {amountOf, dateOf, voucherAmount} from './format.ts';

describe('format', () => {
  it('reads a day as that day in the local time zone, never the day before', () => {
    const date = dateOf('2027-01-05')!;
    expect([date.getFullYear(), date.getMonth(), date.getDate()]).toEqual([2027, 0, 5]);
    expect(dateOf('2027-01-05T10:00:00+00:00')!.toISOString()).toBe('2027-01-05T10:00:00.000Z');
    expect([dateOf(null), dateOf('soon')]).toEqual([null, null]);
  });

  it('reads amounts and floors a conversion to the cent like the app', () => {
    expect([amountOf('100.00'), amountOf(null), amountOf('x')]).toEqual([100, null, null]);
    expect(voucherAmount(400, '0.1')).toBe(40);
    expect(voucherAmount(333, '0.015')).toBe(4.99);
    expect(voucherAmount(7, '2')).toBe(14);
  });
});

/** Types of the app's answers the extensions share (docs/storefront.md, the page's JSON). */

/** A reward's conditions as the app states them (`terms` on rewards and on the conversion). */
export interface Terms {
  validity_days: number | null;
  minimum_subtotal: string | null;
  full_price_only: boolean;
  one_per_order: boolean;
  points_lost_if_unused: boolean;
  combines_with_discounts: boolean;
}

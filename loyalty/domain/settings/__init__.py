"""Parts of the programme document (loyalty.domain.programme): each part a frozen dataclass that reads
itself from JSON-like data, refusing unknown fields and wrong types with the field's dotted path, and
writes itself back (`Section`). Parts import nothing of the programme, so the programme can hold them and
the rules that use them (loyalty.domain.tiers, campaigns, ...) can import both."""

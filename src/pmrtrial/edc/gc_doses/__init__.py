"""The glucocorticoid dose log: one ``gc_dose`` record per dose row (key ``GC-n``), its live
cumulative dose and its adherence to the arm's taper (shown only where it does not reveal the arm)."""

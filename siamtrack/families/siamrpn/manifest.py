"""What the SiamRPN++ family offers, torch-free (read by the tools before torch is imported).

``EXPORT_LAYOUTS``: the export layouts the family registers: none (siamtrack's own layout
holds SiamRPN++).
"""

EXPORT_LAYOUTS = {}

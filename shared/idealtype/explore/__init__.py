"""Gallery explorer: what the face-embedding features mean, and what looks wrong in a gallery.

The analysis modules (axes, label_checks, duplicates, findings) need numpy only; report_html
writes the static report and fix_suggestions the operator's to-do list. Nothing here edits a
gallery or an index.
"""

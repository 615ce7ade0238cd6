"""`voicetrail report`: ROI maths (`roi`), its rendering (`render`: tables, SVG, HTML) and the command."""

"""Reports: plot functions returning figures, HTML rendering, text tables."""

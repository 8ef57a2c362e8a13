"""Report sections: one module per section of docs/results/index.md."""

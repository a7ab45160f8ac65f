"""Phase executors of the R1 workflows (one concept per module)."""

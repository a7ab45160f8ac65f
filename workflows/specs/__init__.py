"""Workflow definitions (WorkflowSpec) of the R1 domain."""

"""Job A's collectors: one module per resource kind, each named with its IAM actions in the kinds catalog
(`awscost.usage.kinds`); `awscost.usage.runner.run_collection` fans out accounts x regions x kinds."""

"""The front ends, each an adapter over `awscost.jobs`: the command line (`cli/`) and the Lambda handler."""

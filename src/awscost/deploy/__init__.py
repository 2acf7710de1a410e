"""Deployment: what runs awscost in AWS, built from the job registry.

    stack     the CloudFormation template of the jobs (functions, roles, schedules, alarms) and the stack's own
              resources, rendered from each job's declarations; infra/awscost.yaml is its output
    package   the artifacts (the collector zip; the analytics image's build context) with a version stamp
    push      the source.zip the pipeline deploys, uploaded to its source bucket; the pipeline's status

Above `jobs` (it reads the registry), below `entrypoints` (the `awscost deploy` commands adapt it).
"""

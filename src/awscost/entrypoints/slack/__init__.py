"""`/awscost` in Slack: the command's words parsed (parse), `[slack]` users and channels mapped to audiences
(config), the answers built from the report job's model (answer, blocks), the bolt app that verifies Slack's
signature and acknowledges within 3 s (app), its Lambda handler (lambda_function: bolt + boto3 only) and the
anomaly alerts posted to a channel (alerts). docs/slack.md."""

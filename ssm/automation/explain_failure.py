import boto3

STEP = "RunCollector"


def handler(events, context):
    """Turn a failed collector run into one clear failure message, then fail the execution."""
    instance_id = events["InstanceId"]
    ssm = boto3.client("ssm")
    steps = ssm.describe_automation_step_executions(
        AutomationExecutionId=events["ExecutionId"],
        Filters=[{"Key": "StepName", "Values": [STEP]}],
    ).get("StepExecutions", [])
    step = steps[-1] if steps else {}
    reason = step.get("FailureMessage") or step.get("StepStatus") or "the collector step did not run"
    command_ids = (step.get("Outputs") or {}).get("CommandId") or []
    detail = ""
    if command_ids:
        try:
            invocation = ssm.get_command_invocation(CommandId=command_ids[0], InstanceId=instance_id)
        except ssm.exceptions.InvocationDoesNotExist:
            invocation = {}
        status = invocation.get("StatusDetails") or invocation.get("Status") or "unknown"
        stderr = (invocation.get("StandardErrorContent") or "").strip().splitlines()
        errors = [line for line in stderr if line.startswith("EKSDIAG_ERROR:")]
        last = errors[-1] if errors else (stderr[-1] if stderr else "")
        detail = f"; command {command_ids[0]} {status}" + (f": {last}" if last else "")
    raise RuntimeError(f"collection on {instance_id} failed: {reason}{detail}")

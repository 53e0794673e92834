import boto3


def handler(events, context):
    """Fail early, with a reason, when the node cannot run the collector."""
    instance_id = events["InstanceId"]
    ssm = boto3.client("ssm")
    found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]).get(
        "InstanceInformationList", []
    )
    if not found:
        raise RuntimeError(
            f"{instance_id} is not a managed node: SSM Agent is not registered "
            "(check the agent, the instance profile and the network path to SSM)"
        )
    info = found[0]
    if info.get("PingStatus") != "Online":
        raise RuntimeError(f"{instance_id} is managed but its SSM Agent is {info.get('PingStatus')}, not Online")
    if info.get("PlatformType") != "Linux":
        raise RuntimeError(f"{instance_id} runs {info.get('PlatformType')}; the collector needs Linux")
    return {
        "PingStatus": info["PingStatus"],
        "AgentVersion": info.get("AgentVersion", ""),
        "PlatformName": info.get("PlatformName", ""),
    }

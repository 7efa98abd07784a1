"""Rules a CloudFormation/SAM template must pass, as plain functions returning problems.

Each rule takes a parsed template (dict) and returns a list of human-readable problems (empty =
pass), so the tests can run it both on the project's template.yaml and on deliberately bad
mini-templates that prove the rule catches what it claims to.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

FUNCTION_TYPES = ("AWS::Serverless::Function", "AWS::Lambda::Function")
# Services whose resources hold user or product data.
DATA_SERVICES = ("s3", "dynamodb")
# Managed policies / SAM policy templates that may be attached by name (they grant no data access).
ALLOWED_NAMED_POLICIES = {"AWSLambdaBasicExecutionRole"}
PUBLIC_ACL_VALUES = {"PublicRead", "PublicReadWrite", "AuthenticatedRead"}
BLOCK_PUBLIC_FLAGS = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that understands CloudFormation's short-form tags (!Ref, !Sub, !GetAtt, ...)."""


def _construct_tag(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template(path: str | Path) -> dict[str, Any]:
    return yaml.load(Path(path).read_text(encoding="utf-8"), Loader=_CfnLoader)


def parse_template(text: str) -> dict[str, Any]:
    return yaml.load(text, Loader=_CfnLoader)


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def resources_of_type(template: dict[str, Any], *types: str) -> Iterator[tuple[str, dict]]:
    for name, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") in types:
            yield name, resource.get("Properties") or {}


def identity_policy_entries(template: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(owner, entry) for every identity policy: SAM `Policies` items (a name, a policy
    template, or an inline document), IAM role/policy documents and managed policy ARNs."""
    for name, props in resources_of_type(
        template, *FUNCTION_TYPES, "AWS::Serverless::StateMachine"
    ):
        for entry in _as_list(props.get("Policies")):
            yield name, entry
    for name, props in resources_of_type(template, "AWS::IAM::Role"):
        for policy in _as_list(props.get("Policies")):
            yield name, policy.get("PolicyDocument", {})
        for arn in _as_list(props.get("ManagedPolicyArns")):
            yield name, arn
    for name, props in resources_of_type(template, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
        yield name, props.get("PolicyDocument", {})


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in _as_list(document.get("Statement")) if isinstance(s, dict)]


def identity_statements(template: dict[str, Any], owner: str | None = None) -> list[dict]:
    """Inline statements of every identity policy (or only those of resource `owner`)."""
    found = []
    for name, entry in identity_policy_entries(template):
        if (owner is None or name == owner) and isinstance(entry, dict) and "Statement" in entry:
            found.extend(_statements(entry))
    return found


def _policy_name(entry: Any) -> str:
    """Readable name of a policy attached by name/ARN/template ('' for an inline document)."""
    if isinstance(entry, str):
        return entry.rsplit("/", 1)[-1]
    if isinstance(entry, dict) and "Statement" not in entry:
        return next(iter(entry), "?") if len(entry) == 1 else repr(entry)
    return ""


def check_wildcard_actions(template: dict[str, Any]) -> list[str]:
    """Allow statements must name their actions (no '*', 's3:*', 's3:Get*', NotAction) and
    data actions (S3, DynamoDB) must name their resources (no Resource '*'). Policies attached
    by name are opaque here, so only known-harmless ones are accepted."""
    problems = []
    for owner, entry in identity_policy_entries(template):
        name = _policy_name(entry)
        if name:
            if name not in ALLOWED_NAMED_POLICIES:
                problems.append(f"{owner}: policy {name!r} is not an inline, reviewable statement")
            continue
        for statement in _statements(entry):
            if statement.get("Effect") != "Allow":
                continue
            if "NotAction" in statement or "NotResource" in statement:
                problems.append(f"{owner}: Allow with NotAction/NotResource grants everything else")
            actions = [a for a in _as_list(statement.get("Action")) if isinstance(a, str)]
            for action in actions:
                if "*" in action:
                    problems.append(f"{owner}: wildcard action {action!r}")
            data_actions = [a for a in actions if a.split(":", 1)[0] in DATA_SERVICES]
            if data_actions and "*" in _as_list(statement.get("Resource")):
                problems.append(f"{owner}: {data_actions} allowed on Resource '*'")
    return problems


def check_ttl(template: dict[str, Any]) -> list[str]:
    """Every DynamoDB table expires its items (sessions must not pile up forever)."""
    problems = []
    for name, props in resources_of_type(template, "AWS::DynamoDB::Table"):
        ttl = props.get("TimeToLiveSpecification") or {}
        if ttl.get("Enabled") is not True or not ttl.get("AttributeName"):
            problems.append(f"{name}: no enabled TimeToLiveSpecification with an AttributeName")
    return problems


def _public_principal(principal: Any) -> bool:
    if principal == "*":
        return True
    if isinstance(principal, dict):
        return any(value == "*" or value == ["*"] for value in principal.values())
    return False


def check_public_buckets(template: dict[str, Any]) -> list[str]:
    """Buckets block every kind of public access, host no website endpoint, and their policies
    allow only named principals; CloudFront reads only for one distribution (AWS:SourceArn)."""
    problems = []
    for name, props in resources_of_type(template, "AWS::S3::Bucket"):
        block = props.get("PublicAccessBlockConfiguration") or {}
        missing = [flag for flag in BLOCK_PUBLIC_FLAGS if block.get(flag) is not True]
        if missing:
            problems.append(f"{name}: public access not blocked ({', '.join(missing)})")
        if props.get("AccessControl") in PUBLIC_ACL_VALUES:
            problems.append(f"{name}: public ACL {props['AccessControl']}")
        if "WebsiteConfiguration" in props:
            problems.append(f"{name}: website hosting serves the bucket publicly")
    for name, props in resources_of_type(template, "AWS::S3::BucketPolicy"):
        for statement in _statements(props.get("PolicyDocument") or {}):
            if statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal")
            if _public_principal(principal):
                problems.append(f"{name}: Allow to everyone (Principal {principal!r})")
            services = _as_list(principal.get("Service")) if isinstance(principal, dict) else []
            condition = statement.get("Condition") or {}
            pinned = any("AWS:SourceArn" in (test or {}) for test in condition.values())
            if "cloudfront.amazonaws.com" in services and not pinned:
                problems.append(f"{name}: CloudFront read not pinned to one distribution")
    return problems


def check_function_limits(template: dict[str, Any]) -> list[str]:
    """Every function states its memory and timeout (directly or via SAM Globals)."""
    globals_ = ((template.get("Globals") or {}).get("Function")) or {}
    problems = []
    for name, props in resources_of_type(template, *FUNCTION_TYPES):
        is_sam = template["Resources"][name]["Type"] == "AWS::Serverless::Function"
        for setting in ("MemorySize", "Timeout"):
            if setting not in props and not (is_sam and setting in globals_):
                problems.append(f"{name}: no {setting}")
    return problems


def resolve(value: Any, names: dict[str, str], conditions: dict[str, bool] | None = None) -> str:
    """Evaluate the few intrinsic functions the functions' settings use (Ref, string Fn::Sub,
    Fn::If) with `names` for parameters/resources ("Res.Attr" for attributes)."""
    if isinstance(value, dict) and len(value) == 1:
        ((fn, arg),) = value.items()
        if fn == "Ref":
            return names[arg]
        if fn == "Fn::Sub":
            return re.sub(r"\$\{([^}]+)\}", lambda m: names[m.group(1)], arg)
        if fn == "Fn::If":
            condition, yes, no = arg
            return resolve(yes if (conditions or {})[condition] else no, names, conditions)
        raise ValueError(f"cannot resolve {fn}")
    return str(value)


def function_environment(
    template: dict[str, Any], function: str, names: dict[str, str], conditions=None
) -> dict[str, str]:
    """A function's environment variables as deployed, given names for the resources
    (parameters default to the template's defaults)."""
    defaults = {name: str(p.get("Default", "")) for name, p in template["Parameters"].items()}
    variables = template["Resources"][function]["Properties"]["Environment"]["Variables"]
    return {key: resolve(value, defaults | names, conditions) for key, value in variables.items()}


ALL_RULES = (check_wildcard_actions, check_ttl, check_public_buckets, check_function_limits)

"""template.yaml passes the security/operability rules, and each rule really fails on a
deliberately bad mini-template (so a passing result means something)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from .template_rules import (
    ALL_RULES,
    check_function_limits,
    check_public_buckets,
    check_ttl,
    check_wildcard_actions,
    load_template,
    parse_template,
)

TEMPLATE = Path(__file__).resolve().parents[2] / "template.yaml"

GOOD = parse_template(
    """
Globals:
  Function: {Timeout: 10}
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      MemorySize: 512
      Policies:
        - AWSLambdaBasicExecutionRole
        - Statement:
            - Effect: Allow
              Action: [dynamodb:GetItem]
              Resource: !GetAtt Table.Arn
            - Effect: Deny
              Action: "s3:*"
              Resource: "*"
  Table:
    Type: AWS::DynamoDB::Table
    Properties:
      TimeToLiveSpecification: {AttributeName: expires_at, Enabled: true}
  Bucket:
    Type: AWS::S3::Bucket
    Properties:
      PublicAccessBlockConfiguration:
        {BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true}
  BucketPolicy:
    Type: AWS::S3::BucketPolicy
    Properties:
      Bucket: !Ref Bucket
      PolicyDocument:
        Statement:
          - Effect: Allow
            Principal: {Service: cloudfront.amazonaws.com}
            Action: s3:GetObject
            Resource: !Sub "${Bucket.Arn}/*"
            Condition: {StringEquals: {"AWS:SourceArn": "arn:aws:cloudfront::1:distribution/X"}}
          - Effect: Deny
            Principal: "*"
            Action: "s3:*"
            Resource: !Sub "${Bucket.Arn}/*"
"""
)


def mutated(edit) -> dict:
    template = copy.deepcopy(GOOD)
    edit(template["Resources"], template)
    return template


def _fn_statement(resources) -> dict:
    return resources["Fn"]["Properties"]["Policies"][1]["Statement"][0]


def _set(path: tuple, value):
    """An edit that sets Resources[path...] = value."""

    def edit(resources, _template):
        target = resources
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return edit


BAD_CASES = {
    check_wildcard_actions: {
        "star action": lambda r, t: _fn_statement(r).update(Action="*"),
        "service wildcard": lambda r, t: _fn_statement(r).update(Action="dynamodb:*"),
        "prefix wildcard": lambda r, t: _fn_statement(r).update(Action=["s3:Get*"]),
        "data action on any resource": lambda r, t: _fn_statement(r).update(Resource="*"),
        "NotAction": lambda r, t: _fn_statement(r).update(NotAction="iam:*"),
        "broad SAM policy template": lambda r, t: r["Fn"]["Properties"]["Policies"].append(
            {"S3CrudPolicy": {"BucketName": "b"}}
        ),
        "managed full access": lambda r, t: r.update(
            Role={
                "Type": "AWS::IAM::Role",
                "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AmazonS3FullAccess"]},
            }
        ),
        "IAM policy wildcard": lambda r, t: r.update(
            Pol={
                "Type": "AWS::IAM::Policy",
                "Properties": {
                    "PolicyDocument": {
                        "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:x"}]
                    }
                },
            }
        ),
    },
    check_ttl: {
        "no TTL": lambda r, t: r["Table"]["Properties"].pop("TimeToLiveSpecification"),
        "TTL disabled": _set(("Table", "Properties", "TimeToLiveSpecification", "Enabled"), False),
        "TTL without attribute": _set(
            ("Table", "Properties", "TimeToLiveSpecification"), {"Enabled": True}
        ),
    },
    check_public_buckets: {
        "no public access block": lambda r, t: r["Bucket"]["Properties"].pop(
            "PublicAccessBlockConfiguration"
        ),
        "one block flag off": _set(
            ("Bucket", "Properties", "PublicAccessBlockConfiguration", "RestrictPublicBuckets"),
            False,
        ),
        "public ACL": _set(("Bucket", "Properties", "AccessControl"), "PublicRead"),
        "website hosting": _set(
            ("Bucket", "Properties", "WebsiteConfiguration"), {"IndexDocument": "index.html"}
        ),
        "policy allows everyone": lambda r, t: r["BucketPolicy"]["Properties"]["PolicyDocument"][
            "Statement"
        ][0].update(Principal="*"),
        "policy allows any AWS account": lambda r, t: r["BucketPolicy"]["Properties"][
            "PolicyDocument"
        ]["Statement"][0].update(Principal={"AWS": "*"}),
        "CloudFront read not pinned": lambda r, t: r["BucketPolicy"]["Properties"][
            "PolicyDocument"
        ]["Statement"][0].pop("Condition"),
    },
    check_function_limits: {
        "no memory": lambda r, t: r["Fn"]["Properties"].pop("MemorySize"),
        "no timeout": lambda r, t: t.pop("Globals"),
        "plain Lambda without limits": lambda r, t: r.update(
            Raw={"Type": "AWS::Lambda::Function", "Properties": {"Handler": "x.y"}}
        ),
    },
}


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_project_template_passes(rule):
    assert rule(load_template(TEMPLATE)) == []


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda rule: rule.__name__)
def test_good_mini_template_passes(rule):
    assert rule(GOOD) == []


@pytest.mark.parametrize(
    "rule,case",
    [(rule, case) for rule, cases in BAD_CASES.items() for case in cases],
    ids=lambda value: value if isinstance(value, str) else value.__name__,
)
def test_rule_catches_bad_template(rule, case):
    bad = mutated(BAD_CASES[rule][case])
    problems = rule(bad)
    assert problems, f"{rule.__name__} missed: {case}"
    # Only the intended rule fires, so each bad case isolates one mistake.
    others = [other for other in ALL_RULES if other is not rule and other(bad)]
    assert others == []

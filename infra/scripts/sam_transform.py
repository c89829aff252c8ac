"""Runs the SAM transform offline, as `sam deploy` would before CloudFormation sees the
template, and checks what it expands to. Usage: sam_transform.py TEMPLATE

Offline needs: a region, s3:// CodeUris (SAM would upload the build there), and a managed
policy loader that answers without calling IAM.
"""

import copy
import json
import os
import sys

from cfnlint.decode import decode
from samtranslator.translator.transform import transform


class OfflinePolicyLoader:
    def load(self):
        return {}


def main(path):
    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template, matches = decode(path)
    if matches:
        sys.exit(f"{path} does not parse: {matches}")
    template = copy.deepcopy(template)
    expected_routes = sum(
        1
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    )
    for name, resource in template["Resources"].items():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://artifacts/{name}.zip"
    output = transform(json.loads(json.dumps(template)), {}, OfflinePolicyLoader())
    resources = output["Resources"]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    apis = [r for r in resources.values() if r["Type"] == "AWS::ApiGatewayV2::Api"]
    # SAM expands an HttpApi's routes into the API's OpenAPI body.
    routes = [(method, path) for api in apis for path, methods in api["Properties"]["Body"]["paths"].items() for method in methods]
    permissions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"]
    if not functions or len(routes) != expected_routes or len(permissions) < expected_routes:
        sys.exit(f"unexpected expansion: {len(functions)} functions, {len(routes)} routes, {len(permissions)} permissions")
    if template["Parameters"]["Architecture"]["Default"] != "arm64":
        sys.exit("functions deploy as arm64 unless asked otherwise")
    for function in functions:
        properties = function["Properties"]
        if properties.get("Architectures") != [{"Ref": "Architecture"}] or properties.get("Runtime") != "provided.al2023":
            sys.exit(f"function not on the Architecture parameter / provided.al2023: {properties}")
    print(f"SAM transform ok: {len(resources)} resources, {len(functions)} functions, {len(routes)} routes")


if __name__ == "__main__":
    main(sys.argv[1])

"""Races version-checked updates on one DynamoDB item from 16 threads; prints what was applied.

Python threads race more tightly than one Node process can, which is what exposed moto's lost
conditional updates. Usage: python3 dynamodb-race.py <endpoint> <table>
"""
import json
import sys
import threading

import boto3
import botocore

endpoint, table = sys.argv[1], sys.argv[2]


def client():
    return boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


client().create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                      AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                      KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
successes = 0
lock = threading.Lock()


def worker():
    global successes
    dynamodb = client()
    version = 0
    for _ in range(150):
        try:
            response = dynamodb.update_item(
                TableName=table, Key={"pk": {"S": "counter"}},
                UpdateExpression="SET version = :next ADD applied :one",
                ConditionExpression="attribute_not_exists(version) OR version = :version",
                ExpressionAttributeValues={":next": {"N": str(version + 1)}, ":version": {"N": str(version)}, ":one": {"N": "1"}},
                ReturnValues="ALL_NEW")
            version = int(response["Attributes"]["version"]["N"])
            with lock:
                successes += 1
        except botocore.exceptions.ClientError as error:
            if error.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise
            item = dynamodb.get_item(TableName=table, Key={"pk": {"S": "counter"}}, ConsistentRead=True).get("Item")
            version = int(item["version"]["N"]) if item else 0


threads = [threading.Thread(target=worker) for _ in range(16)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
item = client().get_item(TableName=table, Key={"pk": {"S": "counter"}}, ConsistentRead=True)["Item"]
print(json.dumps({"successes": successes, "version": int(item["version"]["N"]), "applied": int(item["applied"]["N"])}))

/** keyroll's resource types by what a reader calls them, for deploy progress and `keyroll status`. */

/** [singular, plural]. `aws_lambda_invocation` is the provisioner's run for one key. */
const NOUNS: Record<string, readonly [string, string]> = {
  aws_cloudwatch_log_group: ['log group', 'log groups'],
  aws_dynamodb_table: ['table', 'tables'],
  aws_dynamodb_table_item: ['table item', 'table items'],
  aws_iam_role: ['role', 'roles'],
  aws_iam_role_policy: ['role policy', 'role policies'],
  aws_iot_topic_rule: ['IoT rule', 'IoT rules'],
  aws_lambda_function: ['function', 'functions'],
  aws_lambda_function_url: ['function URL', 'function URLs'],
  aws_lambda_invocation: ['key', 'keys'],
  aws_secretsmanager_secret: ['secret', 'secrets'],
};

/** `3 tables`, `1 role policy`; types without a noun show as themselves (`2 aws_sqs_queue`). */
export function countOf(type: string, n: number): string {
  const [one, many] = NOUNS[type] ?? [type, type];
  return `${n} ${n === 1 ? one : many}`;
}

namespace ChatOpsInspector.Aws;

internal static partial class AwsLog
{
    [LoggerMessage(EventId = 3100, Level = LogLevel.Warning,
        Message = "AWS credentials are unavailable ({Reason}); AWS actions fail until credentials are configured")]
    public static partial void AwsCredentialsUnavailable(this ILogger logger, string reason);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning,
        Message = "{Service} {Operation} attempt {Attempt} failed with {ErrorCode} (request {AwsRequestId}); retrying in {DelayMs} ms")]
    public static partial void AwsCallRetrying(this ILogger logger, string service, string operation, int attempt, string errorCode, string? awsRequestId, long delayMs);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning,
        Message = "{Service} {Operation} failed with {ErrorCode}, HTTP {StatusCode} (request {AwsRequestId}) after {Attempts} attempt(s)")]
    public static partial void AwsCallFailed(this ILogger logger, string service, string operation, string errorCode, int? statusCode, string? awsRequestId, int attempts);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Debug,
        Message = "{Service} {Operation} succeeded (request {AwsRequestId})")]
    public static partial void AwsCallSucceeded(this ILogger logger, string service, string operation, string? awsRequestId);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning,
        Message = "{Service} {Operation} failed with {ErrorCode}, HTTP {StatusCode} (request {AwsRequestId})")]
    public static partial void AwsSdkCallFailed(this ILogger logger, string service, string operation, string errorCode, int? statusCode, string? awsRequestId);

    [LoggerMessage(EventId = 3110, Level = LogLevel.Information,
        Message = "Sent patch command {CommandId} ({Document}) to {InstanceCount} instance(s) (request {AwsRequestId})")]
    public static partial void PatchCommandSent(this ILogger logger, string commandId, string document, int instanceCount, string? awsRequestId);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information,
        Message = "Started isolation automation {AutomationExecutionId} ({Document}) for {InstanceId} (request {AwsRequestId})")]
    public static partial void IsolationStarted(this ILogger logger, string automationExecutionId, string document, string instanceId, string? awsRequestId);
}

using System.Net;

namespace ChatOpsInspector.Aws;

/// <summary>What kind of failure an AWS call ended with, so callers can word a chat reply without parsing codes.</summary>
internal enum AwsErrorKind
{
    Unknown,
    Throttling,
    AccessDenied,
    /// <summary>The credentials were rejected (unknown key, bad signature, expired token).</summary>
    Authentication,
    Validation,
    ResourceNotFound,
    Conflict,
    QuotaExceeded,
    ServerError,
    /// <summary>No usable answer reached us: connection failure, timeout, unreadable response.</summary>
    Unavailable,
}

/// <summary>An AWS call failed. Carries what the audit and the operator need: code, status, request id.</summary>
internal sealed class AwsServiceException : Exception
{
    public AwsServiceException(
        string service,
        string operation,
        string errorCode,
        string? serviceMessage,
        HttpStatusCode? statusCode,
        string? requestId,
        AwsErrorKind? kind = null,
        TimeSpan? retryAfter = null,
        Exception? innerException = null)
        : base(Describe(service, operation, errorCode, serviceMessage, statusCode, requestId), innerException)
    {
        Service = service;
        Operation = operation;
        ErrorCode = errorCode;
        ServiceMessage = serviceMessage;
        StatusCode = statusCode;
        RequestId = requestId;
        Kind = kind ?? Classify(errorCode, statusCode);
        RetryAfter = retryAfter;
    }

    public string Service { get; }

    public string Operation { get; }

    /// <summary>The AWS error code without namespace or URI decoration, e.g. <c>ThrottlingException</c>.</summary>
    public string ErrorCode { get; }

    public string? ServiceMessage { get; }

    public HttpStatusCode? StatusCode { get; }

    /// <summary>The AWS request id (<c>x-amzn-RequestId</c>) for support cases and the audit stream.</summary>
    public string? RequestId { get; }

    public AwsErrorKind Kind { get; }

    public TimeSpan? RetryAfter { get; }

    public bool IsRetryable => Kind is AwsErrorKind.Throttling or AwsErrorKind.ServerError or AwsErrorKind.Unavailable;

    internal static AwsErrorKind Classify(string errorCode, HttpStatusCode? statusCode)
    {
        switch (errorCode)
        {
            case "ThrottlingException" or "Throttling" or "ThrottledException" or "TooManyRequestsException"
                or "RequestLimitExceeded" or "RequestThrottled" or "RequestThrottledException"
                or "ProvisionedThroughputExceededException" or "SlowDown":
                return AwsErrorKind.Throttling;
            case "AccessDeniedException" or "AccessDenied" or "UnauthorizedOperation" or "UnauthorizedException":
                return AwsErrorKind.AccessDenied;
            case "UnrecognizedClientException" or "InvalidSignatureException" or "SignatureDoesNotMatch"
                or "ExpiredTokenException" or "ExpiredToken" or "InvalidClientTokenId" or "MissingAuthenticationToken"
                or "IncompleteSignature":
                return AwsErrorKind.Authentication;
            case "ConflictException" or "IdempotentParameterMismatch":
                return AwsErrorKind.Conflict;
            case "InternalServerException" or "InternalServerError" or "InternalFailure" or "ServiceUnavailable"
                or "ServiceUnavailableException":
                return AwsErrorKind.ServerError;
            case "InvalidCommandId":
                return AwsErrorKind.ResourceNotFound;
        }

        if (errorCode.EndsWith("NotFoundException", StringComparison.Ordinal) || errorCode.EndsWith("NotFound", StringComparison.Ordinal))
        {
            return AwsErrorKind.ResourceNotFound;
        }

        if (errorCode.Contains("LimitExceeded", StringComparison.Ordinal) || errorCode.Contains("QuotaExceeded", StringComparison.Ordinal))
        {
            return AwsErrorKind.QuotaExceeded;
        }

        if (errorCode is "ValidationException" or "BadRequestException" or "UnsupportedPlatformType"
            || errorCode.StartsWith("Invalid", StringComparison.Ordinal))
        {
            return AwsErrorKind.Validation;
        }

        return (int?)statusCode switch
        {
            429 => AwsErrorKind.Throttling,
            403 => AwsErrorKind.AccessDenied,
            401 => AwsErrorKind.Authentication,
            404 => AwsErrorKind.ResourceNotFound,
            409 => AwsErrorKind.Conflict,
            400 => AwsErrorKind.Validation,
            >= 500 => AwsErrorKind.ServerError,
            _ => AwsErrorKind.Unknown,
        };
    }

    private static string Describe(string service, string operation, string errorCode, string? message, HttpStatusCode? status, string? requestId)
    {
        var text = $"{service} {operation} failed with {errorCode}";
        if (status is { } code)
        {
            text += $" (HTTP {(int)code})";
        }

        if (!string.IsNullOrWhiteSpace(message))
        {
            text += $": {message}";
        }

        return requestId is null ? text : $"{text} [request id {requestId}]";
    }
}

/// <summary>
/// No AWS credentials could be resolved from the SDK default chain. Thrown when an AWS call is
/// attempted, never at start-up, so the bot still runs locally without AWS.
/// </summary>
internal sealed class AwsCredentialsUnavailableException(string message, Exception? innerException = null)
    : Exception(message, innerException);

/// <summary>No region was configured and the SDK found none: AWS actions refuse rather than guess.</summary>
internal sealed class AwsRegionUnavailableException()
    : Exception("No AWS region is configured: set Aws:Region (or AWS_REGION, or a region in the AWS profile).");

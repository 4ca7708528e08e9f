using Amazon.Runtime;
using ChatOpsInspector.Aws;

namespace ChatOpsInspector.Workflow;

/// <summary>How remediation tells an AWS refusal from a bug, and how it words one for chat and the audit.</summary>
internal static class AwsFailures
{
    /// <summary>AWS said no, or could not be reached: report it to the person, do not fail the request.</summary>
    public static bool Is(Exception ex) =>
        ex is AwsServiceException or AwsCredentialsUnavailableException or AwsRegionUnavailableException or HttpRequestException or AmazonServiceException or AmazonClientException;

    public static string Describe(Exception ex) => ex switch
    {
        AwsServiceException aws => $"{aws.ErrorCode} ({aws.Message})",
        AmazonServiceException sdk => $"{sdk.ErrorCode} ({sdk.Message})",
        AwsCredentialsUnavailableException => "no AWS credentials are available to the bot",
        AwsRegionUnavailableException region => region.Message,
        _ => ex.Message,
    };

    public static string? RequestId(Exception ex) => ex switch
    {
        AwsServiceException aws => aws.RequestId,
        AmazonServiceException sdk => sdk.RequestId,
        _ => null,
    };
}

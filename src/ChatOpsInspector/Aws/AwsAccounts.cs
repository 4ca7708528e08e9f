using System.Collections.Concurrent;
using Amazon;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Amazon.SecurityToken.Model;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Aws;

/// <summary>
/// Credentials per AWS account. The bot's own account (the Inspector delegated administrator) uses
/// the default chain; a member account is reached by assuming <c>Aws:MemberRoleName</c> there, with
/// <c>Aws:MemberRoleExternalId</c>. Assumed credentials are kept per account and renewed shortly
/// before they expire, so a busy hour costs one AssumeRole per member account, not one per call.
/// </summary>
internal sealed partial class AwsAccounts(
    IOptions<AwsOptions> options,
    AwsCredentialsProvider credentials,
    ILogger<AwsAccounts> logger) : IDisposable
{
    public const string RoleSessionName = "ChatOpsInspector";

    private readonly ConcurrentDictionary<string, AssumedRoleCredentials> assumed = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, AmazonSecurityTokenServiceClient> stsClients = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim identityGate = new(1, 1);
    private string? ownAccountId;

    /// <summary>Credentials that act in <paramref name="accountId"/> (null: the bot's own account).</summary>
    public async Task<AWSCredentials> CredentialsForAsync(string? accountId, string region, CancellationToken cancellationToken)
    {
        var own = await credentials.GetCredentialsAsync(cancellationToken);
        var settings = options.Value;
        if (accountId is null || !settings.HasMemberRole || accountId == await OwnAccountIdAsync(region, cancellationToken))
        {
            return own;
        }

        return assumed.GetOrAdd(accountId, id => new AssumedRoleCredentials(this, id, RoleArn(id, region, settings.MemberRoleName), region));
    }

    /// <summary>The account the bot's own credentials belong to (STS GetCallerIdentity, asked once).</summary>
    public async Task<string> OwnAccountIdAsync(string region, CancellationToken cancellationToken)
    {
        if (ownAccountId is { } known)
        {
            return known;
        }

        await identityGate.WaitAsync(cancellationToken);
        try
        {
            if (ownAccountId is { } raced)
            {
                return raced;
            }

            var sts = await StsAsync(region, cancellationToken);
            var identity = await CallStsAsync("GetCallerIdentity",
                () => sts.GetCallerIdentityAsync(new GetCallerIdentityRequest(), cancellationToken));
            ownAccountId = identity.Account;
            return ownAccountId;
        }
        finally
        {
            identityGate.Release();
        }
    }

    internal static string RoleArn(string accountId, string region, string roleName)
    {
        var partition = region.StartsWith("cn-", StringComparison.Ordinal) ? "aws-cn"
            : region.StartsWith("us-gov-", StringComparison.Ordinal) ? "aws-us-gov"
            : "aws";
        return $"arn:{partition}:iam::{accountId}:role/{roleName}";
    }

    private async Task<ImmutableCredentials> AssumeAsync(AssumedRoleCredentials role, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var sts = await StsAsync(role.Region, cancellationToken);
        var request = new AssumeRoleRequest
        {
            RoleArn = role.RoleArn,
            RoleSessionName = RoleSessionName,
            ExternalId = string.IsNullOrWhiteSpace(settings.MemberRoleExternalId) ? null : settings.MemberRoleExternalId,
            DurationSeconds = 3600,
        };
        var response = await CallStsAsync("AssumeRole", () => sts.AssumeRoleAsync(request, cancellationToken));
        var issued = response.Credentials
            ?? throw new AwsServiceException("sts", "AssumeRole", "InvalidResponse", "The response carries no credentials.",
                response.HttpStatusCode, response.ResponseMetadata?.RequestId, AwsErrorKind.Unavailable);
        LogAssumed(role.AccountId, role.RoleArn, issued.Expiration, response.ResponseMetadata?.RequestId);
        role.ExpiresAt = issued.Expiration is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : null;
        return new ImmutableCredentials(issued.AccessKeyId, issued.SecretAccessKey, issued.SessionToken);
    }

    private async Task<TResponse> CallStsAsync<TResponse>(string operation, Func<Task<TResponse>> call)
        where TResponse : AmazonWebServiceResponse
    {
        try
        {
            return await call();
        }
        catch (AmazonServiceException ex)
        {
            logger.AwsSdkCallFailed("sts", operation, ex.ErrorCode ?? "UnknownError", ex.StatusCode == 0 ? null : (int)ex.StatusCode, ex.RequestId);
            throw new AwsServiceException("sts", operation, ex.ErrorCode ?? "UnknownError", ex.Message,
                ex.StatusCode == 0 ? null : ex.StatusCode, ex.RequestId, innerException: ex);
        }
        catch (AmazonClientException ex)
        {
            throw new AwsServiceException("sts", operation, "RequestFailed", ex.Message, null, null, AwsErrorKind.Unavailable, innerException: ex);
        }
        catch (HttpRequestException ex)
        {
            throw new AwsServiceException("sts", operation, "RequestFailed", ex.Message, null, null, AwsErrorKind.Unavailable, innerException: ex);
        }
    }

    private async Task<AmazonSecurityTokenServiceClient> StsAsync(string region, CancellationToken cancellationToken)
    {
        if (stsClients.TryGetValue(region, out var existing))
        {
            return existing;
        }

        var own = await credentials.GetCredentialsAsync(cancellationToken);
        var settings = options.Value;
        var config = new AmazonSecurityTokenServiceConfig { RetryMode = RequestRetryMode.Standard, Timeout = TimeSpan.FromSeconds(15) };
        if (settings.Sts.ServiceUri is { } url)
        {
            config.ServiceURL = url.ToString();
            config.AuthenticationRegion = region;
        }
        else
        {
            // Regional STS endpoints: a member account's role is reachable even when us-east-1 is not.
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        }

        var client = new AmazonSecurityTokenServiceClient(own, config);
        if (!stsClients.TryAdd(region, client))
        {
            client.Dispose();
        }

        return stsClients[region];
    }

    public void Dispose()
    {
        foreach (var client in stsClients.Values)
        {
            client.Dispose();
        }

        identityGate.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Assumed {RoleArn} in account {AccountId} until {Expiration} (request {AwsRequestId})")]
    private partial void LogAssumed(string accountId, string roleArn, DateTime? expiration, string? awsRequestId);

    /// <summary>A member account's role session; the SDK renews it five minutes before it expires.</summary>
    private sealed class AssumedRoleCredentials : RefreshingAWSCredentials
    {
        private readonly AwsAccounts owner;

        public AssumedRoleCredentials(AwsAccounts owner, string accountId, string roleArn, string region)
        {
            this.owner = owner;
            AccountId = accountId;
            RoleArn = roleArn;
            Region = region;
            PreemptExpiryTime = TimeSpan.FromMinutes(5);
        }

        public string AccountId { get; }

        public string RoleArn { get; }

        public string Region { get; }

        public DateTimeOffset? ExpiresAt { get; set; }

        protected override CredentialsRefreshState GenerateNewCredentials() =>
            GenerateNewCredentialsAsync().GetAwaiter().GetResult();

        protected override async Task<CredentialsRefreshState> GenerateNewCredentialsAsync()
        {
            var issued = await owner.AssumeAsync(this, CancellationToken.None);
            var expires = ExpiresAt?.UtcDateTime ?? DateTime.UtcNow.AddMinutes(15);
            return new CredentialsRefreshState(issued, expires);
        }
    }
}

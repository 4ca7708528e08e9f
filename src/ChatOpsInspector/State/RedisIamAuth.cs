using Amazon.Runtime;
using ChatOpsInspector.Aws;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using StackExchange.Redis.Configuration;

namespace ChatOpsInspector.State;

/// <summary>
/// The IAM authentication token of ElastiCache and MemoryDB: a SigV4 query-string presigned
/// <c>GET http://{cache}/?Action=connect&amp;User={user}</c> for service <c>elasticache</c> or
/// <c>memorydb</c>, valid 900 s, written without its <c>http://</c> scheme (AWS's "Authenticating with IAM"
/// pages for both services, and their IAMAuthTokenRequest samples).
/// </summary>
internal static class RedisIamAuthToken
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(900);

    public static string Create(RedisIamAuthOptions options, string region, ImmutableCredentials credentials, DateTimeOffset signedAt)
    {
        var cache = options.CacheName!.Trim();
        var amzDate = SigV4Signer.FormatAmzDate(signedAt);
        var scope = $"{amzDate[..8]}/{region}/{options.Service}/aws4_request";
        var request = new List<KeyValuePair<string, string>>
        {
            new("Action", "connect"),
            new("User", options.User!),
            new("X-Amz-Expires", ((int)Lifetime.TotalSeconds).ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (options.Serverless)
        {
            request.Add(new("ResourceType", "ServerlessCache"));
        }
        if (credentials.UseToken)
        {
            request.Add(new("X-Amz-Security-Token", credentials.Token));
        }
        // Written as AWS's SDKs write a presigned URL (request parameters sorted, then the signing ones, the
        // signature last), so the token is byte-for-byte the one an SDK would make. The server does not care:
        // it checks the signature over the canonical (sorted) query.
        var query = Join(request.OrderBy(p => p.Key, StringComparer.Ordinal)) + "&" + Join(
        [
            new("X-Amz-Algorithm", SigV4Signer.Algorithm),
            new("X-Amz-Credential", $"{credentials.AccessKey}/{scope}"),
            new("X-Amz-Date", amzDate),
            new("X-Amz-SignedHeaders", "host"),
        ]);
        var signature = SigV4Signer.Sign(
            new SigV4Signer.Request("GET", "/", query, [new("host", cache)], SigV4Signer.EmptyPayloadHash),
            credentials.AccessKey,
            credentials.SecretKey,
            region,
            options.Service,
            signedAt);
        return $"{cache}/?{query}&X-Amz-Signature={signature.Value}";
    }

    private static string Join(IEnumerable<KeyValuePair<string, string>> parameters) =>
        string.Join('&', parameters.Select(p => SigV4Signer.UriEncode(p.Key) + "=" + SigV4Signer.UriEncode(p.Value)));
}

/// <summary>
/// Keeps a fresh IAM token for the Redis connection and hands it to StackExchange.Redis as the password.
/// </summary>
/// <remarks>
/// StackExchange.Redis reads <see cref="ConfigurationOptions.Password"/> on every handshake (first connect
/// and each reconnect), falling back to <see cref="ConfigurationOptions.Defaults"/> when none is set. So the
/// password is left unset and the defaults provider answers with the current token: a connection that
/// ElastiCache closes at its 12-hour limit, or that drops for any reason, re-authenticates with a token at
/// most <see cref="RefreshEvery"/> old, without re-creating the multiplexer (which would abandon in-flight
/// commands and every subscriber). Connections already authenticated are not affected by the token expiring.
/// </remarks>
internal sealed partial class RedisIamAuth(
    IOptions<StateOptions> state,
    IOptions<AwsOptions> aws,
    AwsCredentialsProvider credentials,
    TimeProvider time,
    ILogger<RedisIamAuth> logger)
{
    /// <summary>A token is valid 15 minutes; renewing every 5 leaves any reconnect 10 minutes of validity.</summary>
    public static readonly TimeSpan RefreshEvery = TimeSpan.FromMinutes(5);

    /// <summary>After a failed renewal (credentials or region unavailable) the next try comes sooner.</summary>
    public static readonly TimeSpan RetryEvery = TimeSpan.FromSeconds(30);

    private static readonly TimeSpan LogEvery = TimeSpan.FromMinutes(5);
    private volatile Token? _current;
    private DateTimeOffset _lastFailureLogged = DateTimeOffset.MinValue;
    private int _failuresHeldBack;

    private sealed record Token(string Value, DateTimeOffset SignedAt);

    /// <summary>The token handed to the next handshake; empty until one could be made (the server then refuses, and that is logged).</summary>
    public string Current => _current?.Value ?? "";

    public DateTimeOffset? SignedAt => _current?.SignedAt;

    /// <summary>Sets the IAM user and the token source on the connection settings.</summary>
    public void Apply(ConfigurationOptions config)
    {
        config.User = state.Value.IamAuth.User;
        config.Password = null;
        config.Defaults = new TokenDefaults(this);
    }

    /// <summary>Makes a new token; false (and a log line, at a bounded rate) when credentials or the region are unavailable.</summary>
    public async Task<bool> TryRefreshAsync(CancellationToken cancellationToken)
    {
        try
        {
            var region = aws.Value.ResolveRegion();
            var signing = await credentials.GetSigningCredentialsAsync(cancellationToken);
            var now = time.GetUtcNow();
            _current = new Token(RedisIamAuthToken.Create(state.Value.IamAuth, region, signing, now), now);
            return true;
        }
        catch (Exception ex) when (ex is AwsCredentialsUnavailableException or AwsRegionUnavailableException)
        {
            var now = time.GetUtcNow();
            if (now - _lastFailureLogged >= LogEvery)
            {
                LogRefreshFailed(ex.GetType().Name, _failuresHeldBack, _current is { } token && now - token.SignedAt < RedisIamAuthToken.Lifetime);
                _lastFailureLogged = now;
                _failuresHeldBack = 0;
            }
            else
            {
                _failuresHeldBack++;
            }
            return false;
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Could not make the Redis IAM authentication token (State:IamAuth): {Reason}; {Suppressed} similar failures not logged since the last line; current token still valid: {StillValid}")]
    private partial void LogRefreshFailed(string reason, int suppressed, bool stillValid);

    private sealed class TokenDefaults(RedisIamAuth owner) : DefaultOptionsProvider
    {
        public override string? Password => owner.Current;
    }

    /// <summary>Renews the token on a timer of the host's <see cref="TimeProvider"/>.</summary>
    internal sealed class Refresher(RedisIamAuth auth, TimeProvider time) : BackgroundService
    {
        // Made with the service, not in ExecuteAsync, so the first period counts from start-up.
        private readonly PeriodicTimer _timer = new(RefreshEvery, time);

        protected override async Task ExecuteAsync(CancellationToken stoppingToken)
        {
            try
            {
                if (auth.SignedAt is null)
                {
                    await RefreshAsync(stoppingToken);
                }
                while (await _timer.WaitForNextTickAsync(stoppingToken))
                {
                    await RefreshAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
            }
        }

        private async Task RefreshAsync(CancellationToken cancellationToken)
        {
            var next = await auth.TryRefreshAsync(cancellationToken) ? RefreshEvery : RetryEvery;
            // Setting the period restarts the wait, so only on a change of pace.
            if (_timer.Period != next)
            {
                _timer.Period = next;
            }
        }

        public override void Dispose()
        {
            _timer.Dispose();
            base.Dispose();
        }
    }
}

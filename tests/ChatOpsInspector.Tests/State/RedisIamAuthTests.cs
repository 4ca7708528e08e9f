using System.Net;
using Amazon.Runtime;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Amazon.Runtime.Internal.Util;
using ChatOpsInspector.Aws;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace ChatOpsInspector.Tests.State;

/// <summary>
/// ElastiCache / MemoryDB IAM authentication. The token format is AWS's ("Authenticating with IAM" in
/// the ElastiCache and MemoryDB developer guides: a SigV4 query-presigned GET of
/// <c>http://{cache}/?Action=connect&amp;User={user}</c>, 900 s, scheme removed; serverless caches add
/// <c>ResourceType=ServerlessCache</c>); every token here is checked against AWSSDK.Core's own presigner,
/// a signing path that shares no code with the bot's. Redis cannot check SigV4, so the real-server test
/// sets the IAM user's ACL password to the token the SDK computes for the same instant.
/// </summary>
public sealed class RedisIamAuthTests(TlsRedisServer server) : IClassFixture<TlsRedisServer>
{
    private const string Region = "eu-west-1";
    private static readonly ImmutableCredentials Session = new("ASIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "FwoGZXIvYXdzE+session/token==");

    [Theory]
    [InlineData(RedisIamAuthOptions.ElastiCache, false, "my-replication-group", "iam-user-01")]
    [InlineData(RedisIamAuthOptions.ElastiCache, true, "my-serverless-cache", "iam-user-01")]
    [InlineData(RedisIamAuthOptions.MemoryDb, false, "demo-iam-cluster", "demo iam+user")]
    public void TheTokenIsWhatTheAwsSdkPresignerMakesForTheSameRequestAndInstant(string service, bool serverless, string cache, string user)
    {
        var at = new DateTimeOffset(2026, 12, 2, 9, 41, 7, TimeSpan.Zero);
        var options = new RedisIamAuthOptions { CacheName = cache, User = user, Service = service, Serverless = serverless };

        var token = RedisIamAuthToken.Create(options, Region, Session, at);

        Assert.StartsWith(cache + "/?", token, StringComparison.Ordinal);
        Assert.DoesNotContain("://", token, StringComparison.Ordinal);
        var ours = Parse(token);
        Assert.Equal("connect", ours.Query["Action"]);
        Assert.Equal(user, ours.Query["User"]);
        Assert.Equal("900", ours.Query["X-Amz-Expires"]);
        Assert.Equal("host", ours.Query["X-Amz-SignedHeaders"]);
        Assert.Equal($"ASIAIOSFODNN7EXAMPLE/20261202/{Region}/{service}/aws4_request", ours.Query["X-Amz-Credential"]);
        Assert.Equal(serverless, ours.Query.ContainsKey("ResourceType"));
        Assert.Equal(SdkToken(options, Session, at), token);
    }

    [Fact]
    public async Task TheTokenIsRenewedEveryFiveMinutesOfTheHostClockBeforeItsFifteenMinutesRunOut()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var options = Options("cache-a", "user-a");
        var auth = NewAuth(options, time, AwsCredentialsProvider.Fixed(new SessionAWSCredentials(Session.AccessKey, Session.SecretKey, Session.Token), NullLogger<AwsCredentialsProvider>.Instance), NullLogger<RedisIamAuth>.Instance);
        using var refresher = new RedisIamAuth.Refresher(auth, time);
        await refresher.StartAsync(default);
        await TestApp.Eventually(() => Task.FromResult(auth.Current.Length > 0), "first token");
        Assert.Equal(SdkToken(options.Value.IamAuth, Session, time.GetUtcNow()), auth.Current);

        time.Advance(TimeSpan.FromMinutes(4));
        Assert.Equal(SdkToken(options.Value.IamAuth, Session, time.GetUtcNow() - TimeSpan.FromMinutes(4)), auth.Current);
        time.Advance(TimeSpan.FromMinutes(1));
        var renewed = SdkToken(options.Value.IamAuth, Session, time.GetUtcNow());
        await TestApp.Eventually(() => Task.FromResult(auth.Current == renewed), "token renewed at 5 minutes");
        Assert.True(RedisIamAuth.RefreshEvery < RedisIamAuthToken.Lifetime / 2);
        await refresher.StopAsync(default);
    }

    [Fact]
    public async Task WithoutCredentialsTheFailureIsLoggedAtABoundedRateAndTheRenewalRetriedSooner()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 2, 9, 0, 0, TimeSpan.Zero));
        var lines = new List<string>();
        var calls = 0;
        var credentials = new AwsCredentialsProvider(_ =>
        {
            Interlocked.Increment(ref calls);
            throw new InvalidOperationException("no credential source");
        }, NullLogger<AwsCredentialsProvider>.Instance);
        var auth = NewAuth(Options("cache-a", "user-a"), time, credentials, new ListLogger<RedisIamAuth>(lines));
        using var refresher = new RedisIamAuth.Refresher(auth, time);
        await refresher.StartAsync(default);
        await TestApp.Eventually(() => Task.FromResult(Volatile.Read(ref calls) == 1), "first attempt");

        // Retries every 30 s (not every 5 minutes) while failing: 8 more attempts in about 4 minutes of the
        // host clock, and those minutes of failures make a single log line.
        var begun = time.GetUtcNow();
        await TestApp.Eventually(() =>
        {
            var done = Volatile.Read(ref calls) >= 9;
            if (!done)
            {
                time.Advance(TimeSpan.FromSeconds(5));
            }
            return Task.FromResult(done);
        }, "8 retries");
        Assert.InRange(time.GetUtcNow() - begun, 8 * RedisIamAuth.RetryEvery, RedisIamAuth.RefreshEvery - TimeSpan.FromSeconds(1));
        Assert.Equal("", auth.Current);
        var line = Assert.Single(lines);
        Assert.Contains("State:IamAuth", line, StringComparison.Ordinal);
        Assert.Contains("AwsCredentialsUnavailableException", line, StringComparison.Ordinal);
        await refresher.StopAsync(default);
    }

    [Fact]
    public void WithoutTlsTheBotRefusesToStartAndNamesTheKeys()
    {
        // Everything else IAM needs is set: only TLS is missing from State:Redis, and no State:CaFile.
        using var app = new TestApp(new()
        {
            ["State:Redis"] = "127.0.0.1:6379,abortConnect=false",
            ["State:IamAuth:CacheName"] = "my-replication-group",
            ["State:IamAuth:User"] = "iam-user-01",
            ["Aws:Region"] = Region,
        });

        var error = Assert.ThrowsAny<Exception>(() => app.Client());

        var validation = Assert.IsType<OptionsValidationException>(error.GetBaseException());
        var failure = Assert.Single(validation.Failures);
        Assert.StartsWith("State:IamAuth needs TLS", failure, StringComparison.Ordinal);
        Assert.Contains("State:Redis", failure, StringComparison.Ordinal);
        Assert.Contains("State:CaFile", failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheBotConnectsWithTheTokenAndAfterTheServerDropsItReconnectsWithTheRenewedOne()
    {
        // A real TLS redis-server whose IAM user's password is the token AWS's SDK computes for the bot's clock,
        // then rotated and the bot's connections killed: what ElastiCache does at its 12-hour limit.
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var started = time.GetUtcNow();
        var user = "iam-" + Guid.NewGuid().ToString("n")[..10];
        var options = new RedisIamAuthOptions { CacheName = "my-replication-group", User = user };
        Assert.Equal("OK", server.Cli("ACL", "SETUSER", user, "on", ">" + SdkToken(options, Session, started), "~*", "&*", "+@all").Trim());
        await using var app = new TestApp(new Dictionary<string, string?>
        {
            ["State:Redis"] = server.Connection,
            ["State:CaFile"] = server.CaFile,
            ["State:IamAuth:CacheName"] = options.CacheName,
            ["State:IamAuth:User"] = user,
            ["State:KeyPrefix"] = RedisServer.UniquePrefix(),
            ["Aws:Region"] = Region,
        }, services =>
        {
            services.AddSingleton<TimeProvider>(time);
            services.AddSingleton<AWSCredentials>(new SessionAWSCredentials(Session.AccessKey, Session.SecretKey, Session.Token));
        });
        await TestApp.Eventually(async () => (await app.Client().GetAsync("/readyz")).StatusCode == HttpStatusCode.OK, "ready with the IAM token");
        Assert.Equal(HttpStatusCode.Accepted, (await app.PostEventsAsync(FindingEvents.Ec2("iam-1").ToJsonString())).StatusCode);
        Assert.Contains("user=" + user, server.Cli("CLIENT", "LIST"), StringComparison.Ordinal);

        time.Advance(RedisIamAuth.RefreshEvery);
        var renewed = SdkToken(options, Session, time.GetUtcNow());
        await TestApp.Eventually(() => Task.FromResult(app.Service<RedisIamAuth>().Current == renewed), "token renewed");
        server.Cli("ACL", "SETUSER", user, "resetpass", ">" + renewed);
        var killed = int.Parse(server.Cli("CLIENT", "KILL", "USER", user).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(killed >= 1, "the bot's connections were killed");

        // Only the renewed token opens the user now: ingest working again proves the reconnect used it.
        await TestApp.Eventually(async () => (await app.PostEventsAsync(FindingEvents.Ec2("iam-2").ToJsonString())).StatusCode == HttpStatusCode.Accepted, "ingest after reconnect");
        Assert.Contains("user=" + user, server.Cli("CLIENT", "LIST"), StringComparison.Ordinal);
    }

    private static IOptions<StateOptions> Options(string cache, string user) =>
        Microsoft.Extensions.Options.Options.Create(new StateOptions { Redis = "x:6379,ssl=true", IamAuth = new() { CacheName = cache, User = user } });

    private static RedisIamAuth NewAuth(IOptions<StateOptions> state, TimeProvider time, AwsCredentialsProvider credentials, ILogger<RedisIamAuth> logger) =>
        new(state, Microsoft.Extensions.Options.Options.Create(new AwsOptions { Region = Region }), credentials, time, logger);

    /// <summary>The token as AWSSDK.Core presigns it (the way its RDS IAM token generator does), at a given instant.</summary>
    private static string SdkToken(RedisIamAuthOptions options, ImmutableCredentials credentials, DateTimeOffset at)
    {
        var request = new DefaultRequest(new ConnectRequest(), options.Service)
        {
            UseQueryString = true,
            HttpMethod = "GET",
            Endpoint = new Uri($"http://{options.CacheName}/"),
        };
        request.Parameters.Add("Action", "connect");
        request.Parameters.Add("User", options.User);
        if (options.Serverless)
        {
            request.Parameters.Add("ResourceType", "ServerlessCache");
        }
        request.Parameters.Add("X-Amz-Expires", "900");
        if (credentials.UseToken)
        {
            request.Parameters.Add("X-Amz-Security-Token", credentials.Token);
        }
        var signed = AWS4PreSignedUrlSigner.SignRequest(request, null, new RequestMetrics(), credentials.AccessKey, credentials.SecretKey, options.Service, Region, at.UtcDateTime);
        return AmazonServiceClient.ComposeUrl(request).AbsoluteUri["http://".Length..] + "&" + signed.ForQueryParameters;
    }

    private static (string Host, Dictionary<string, string> Query) Parse(string token)
    {
        if (token.Length == 0)
        {
            return ("", []);
        }
        var split = token.IndexOf("/?", StringComparison.Ordinal);
        var query = token[(split + 2)..].Split('&').Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => Uri.UnescapeDataString(p[1]));
        return (token[..split], query);
    }

    private sealed class ConnectRequest : AmazonWebServiceRequest;

    private sealed class ListLogger<T>(List<string> lines) : ILogger<T>
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (lines)
            {
                lines.Add(formatter(state, exception));
            }
        }
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Text.RegularExpressions;
using Amazon.Runtime;
using ChatOpsInspector.Aws;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>The bot's AWS wiring (the real <c>AddAws</c>) in a bare host, with fixed test credentials.</summary>
internal static class AwsTestHost
{
    public const string AccessKey = "AKIDCHATOPSTEST00001";
    public const string SecretKey = "test/secret+key/for/the/fake/servers00";
    public const string SessionToken = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken==";
    public const string Region = "eu-west-1";

    public static IHost Build(
        IDictionary<string, string?> configuration,
        TimeProvider? time = null,
        AWSCredentials? credentials = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddLogging();
        builder.Services.AddSingleton(credentials ?? new SessionAWSCredentials(AccessKey, SecretKey, SessionToken));
        if (time is not null)
        {
            builder.Services.AddSingleton(time);
        }

        services?.Invoke(builder.Services);
        builder.AddAws();
        return builder.Build();
    }
}

/// <summary>Real time for everything, except that delays complete at once and are written down.</summary>
internal sealed class InstantDelays : TimeProvider
{
    private readonly ConcurrentQueue<TimeSpan> delays = new();

    public IReadOnlyList<TimeSpan> Delays => [.. delays];

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime == Timeout.InfiniteTimeSpan)
        {
            return base.CreateTimer(callback, state, dueTime, period);
        }

        delays.Enqueue(dueTime);
        return base.CreateTimer(callback, state, TimeSpan.Zero, period);
    }
}

/// <summary>Checks a received request's SigV4 signature the way AWS would: recompute it from what arrived.</summary>
internal static partial class SigV4Verification
{
    internal sealed record Credential(string AccessKey, string Date, string Region, string Service, string SignedHeaders, string Signature);

    public static Credential AssertValidSignature(RecordedRequest request, string secretKey)
    {
        var authorization = request.Header("Authorization");
        Assert.NotNull(authorization);
        var match = AuthorizationPattern().Match(authorization);
        Assert.True(match.Success, $"Not a SigV4 Authorization header: {authorization}");
        var credential = new Credential(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value,
            match.Groups[4].Value, match.Groups[5].Value, match.Groups[6].Value);

        var amzDate = request.Header("X-Amz-Date");
        Assert.NotNull(amzDate);
        Assert.StartsWith(credential.Date, amzDate, StringComparison.Ordinal);
        var signedAt = DateTimeOffset.ParseExact(amzDate, "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var name in credential.SignedHeaders.Split(';'))
        {
            Assert.True(request.Headers.TryGetValue(name, out var values), $"Signed header {name} did not arrive.");
            headers.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
        }

        var payloadHash = ChatOpsInspector.Aws.SigV4Signer.Sha256Hex(request.Body);
        if (request.Header("X-Amz-Content-Sha256") is { } declared)
        {
            Assert.Equal(payloadHash, declared);
        }

        var expected = ChatOpsInspector.Aws.SigV4Signer.Sign(
            new ChatOpsInspector.Aws.SigV4Signer.Request(request.Method, request.Path, request.Query, headers, payloadHash),
            credential.AccessKey, secretKey, credential.Region, credential.Service, signedAt);
        Assert.Equal(expected.Value, credential.Signature);
        return credential;
    }

    [GeneratedRegex("^AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();
}

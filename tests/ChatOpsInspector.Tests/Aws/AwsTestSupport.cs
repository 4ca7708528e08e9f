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
        Action<IServiceCollection>? services = null,
        bool defaultChain = false)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings { EnvironmentName = "Test" });
        builder.Configuration.AddInMemoryCollection(configuration);
        builder.Services.AddLogging();
        if (!defaultChain)
        {
            builder.Services.AddSingleton(credentials ?? new SessionAWSCredentials(AccessKey, SecretKey, SessionToken));
        }

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
        var (credential, error) = Verify(request.Method, request.Path, request.Query,
            request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v))), request.Body, _ => secretKey);
        Assert.True(error is null, error);
        return credential!;
    }

    /// <summary>
    /// What AWS would decide: the credential scope if the signature matches the secret of its key id,
    /// else why not (unknown key, stale date, payload hash or signature mismatch).
    /// </summary>
    public static (Credential? Credential, string? Error) Verify(
        string method, string path, string query, IEnumerable<KeyValuePair<string, string>> received, byte[] body, Func<string, string?> secretOf)
    {
        var headers = received.GroupBy(h => h.Key, StringComparer.OrdinalIgnoreCase)
            .ToDictionary(g => g.Key, g => g.Select(h => h.Value).ToArray(), StringComparer.OrdinalIgnoreCase);
        if (!headers.TryGetValue("Authorization", out var authorizations))
        {
            return (null, "MissingAuthenticationToken");
        }

        var match = AuthorizationPattern().Match(string.Join(',', authorizations));
        if (!match.Success)
        {
            return (null, "IncompleteSignature");
        }

        var credential = new Credential(match.Groups[1].Value, match.Groups[2].Value, match.Groups[3].Value,
            match.Groups[4].Value, match.Groups[5].Value, match.Groups[6].Value);
        if (secretOf(credential.AccessKey) is not { } secretKey)
        {
            return (credential, "UnrecognizedClientException: unknown access key " + credential.AccessKey);
        }

        if (!headers.TryGetValue("X-Amz-Date", out var dates) || !dates[0].StartsWith(credential.Date, StringComparison.Ordinal))
        {
            return (credential, "IncompleteSignature: X-Amz-Date missing or not the scope's date");
        }

        var signedAt = DateTimeOffset.ParseExact(dates[0], "yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        var signed = new List<KeyValuePair<string, string>>();
        foreach (var name in credential.SignedHeaders.Split(';'))
        {
            if (!headers.TryGetValue(name, out var values))
            {
                return (credential, $"IncompleteSignature: signed header {name} did not arrive");
            }

            signed.AddRange(values.Select(v => new KeyValuePair<string, string>(name, v)));
        }

        var payloadHash = ChatOpsInspector.Aws.SigV4Signer.Sha256Hex(body);
        if (headers.TryGetValue("X-Amz-Content-Sha256", out var declared) && declared[0] != payloadHash && declared[0] != "UNSIGNED-PAYLOAD")
        {
            return (credential, "InvalidSignatureException: payload hash mismatch");
        }

        var expected = ChatOpsInspector.Aws.SigV4Signer.Sign(
            new ChatOpsInspector.Aws.SigV4Signer.Request(method, path, query, signed, payloadHash),
            credential.AccessKey, secretKey, credential.Region, credential.Service, signedAt);
        return expected.Value == credential.Signature
            ? (credential, null)
            : (credential, "InvalidSignatureException: The request signature we calculated does not match the signature you provided.");
    }

    [GeneratedRegex("^AWS4-HMAC-SHA256 Credential=([^/]+)/([0-9]{8})/([^/]+)/([^/]+)/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$")]
    private static partial Regex AuthorizationPattern();
}

using System.Collections.Concurrent;
using System.Security.Cryptography;
using ChatOpsInspector.Tests.Aws;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace ChatOpsInspector.Tests.Workflow;

/// <summary>
/// A fake S3 PutObject (path-style) on loopback. Like S3 it recomputes the SigV4 signature from the
/// key's secret (<see cref="SigV4Verification"/>) and answers 403 when it does not match, and it
/// refuses an Object Lock PUT without an integrity header. Rules from the Amazon S3 API Reference,
/// PutObject (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html): "The Content-MD5
/// or x-amz-sdk-checksum-algorithm header is required for any request to upload an object with a
/// retention period configured using Amazon S3 Object Lock"; x-amz-object-lock-mode is GOVERNANCE or
/// COMPLIANCE and x-amz-object-lock-retain-until-date an ISO 8601 timestamp; an x-amz-checksum-sha256
/// that does not match the body is a 400 BadDigest.
/// </summary>
public sealed class FakeS3 : IAsyncDisposable
{
    public const string AccessKey = "AKIDAUDITARCHIVE001";
    public const string Secret = "secret/for/the/fake";

    public sealed record StoredObject(string Bucket, string Key, byte[] Body, IReadOnlyDictionary<string, string> Headers, string SigningRegion);

    public FakeServer Server { get; private set; } = null!;

    public ConcurrentDictionary<string, StoredObject> Objects { get; } = new();

    public ConcurrentQueue<string> Rejected { get; } = new();

    /// <summary>When set, every PUT answers 503 SlowDown (S3 unavailable).</summary>
    public bool Unavailable { get; set; }

    public static async Task<FakeS3> StartAsync()
    {
        var fake = new FakeS3();
        fake.Server = await FakeServer.StartAsync((app, server) => app.MapPut("/{bucket}/{**key}", async (HttpContext http, string bucket, string key) =>
        {
            using var buffer = new MemoryStream();
            await http.Request.Body.CopyToAsync(buffer);
            var body = buffer.ToArray();
            var raw = http.Features.Get<IHttpRequestFeature>()!.RawTarget;
            var headers = http.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
            var (credential, error) = SigV4Verification.Verify(http.Request.Method, raw.Split('?', 2)[0], raw.Contains('?') ? raw.Split('?', 2)[1] : "",
                http.Request.Headers.SelectMany(h => h.Value.Select(v => new KeyValuePair<string, string>(h.Key, v ?? ""))), body,
                k => k == AccessKey ? Secret : null);
            if (error is not null)
            {
                return fake.Refuse(403, "SignatureDoesNotMatch", error);
            }
            if (fake.Unavailable)
            {
                return fake.Refuse(503, "SlowDown", "Please reduce your request rate.");
            }
            var locked = headers.ContainsKey("x-amz-object-lock-mode") || headers.ContainsKey("x-amz-object-lock-retain-until-date");
            if (locked)
            {
                if (headers.GetValueOrDefault("x-amz-object-lock-mode") is not ("GOVERNANCE" or "COMPLIANCE"))
                {
                    return fake.Refuse(400, "InvalidArgument", "x-amz-object-lock-mode must be GOVERNANCE or COMPLIANCE");
                }
                if (!DateTimeOffset.TryParse(headers.GetValueOrDefault("x-amz-object-lock-retain-until-date"), out _))
                {
                    return fake.Refuse(400, "InvalidArgument", "x-amz-object-lock-retain-until-date is not a timestamp");
                }
                if (!headers.ContainsKey("Content-MD5") && !headers.ContainsKey("x-amz-sdk-checksum-algorithm"))
                {
                    return fake.Refuse(400, "InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters");
                }
            }
            if (headers.TryGetValue("x-amz-checksum-sha256", out var sha) && sha != Convert.ToBase64String(SHA256.HashData(body)))
            {
                return fake.Refuse(400, "BadDigest", "The SHA256 you specified did not match the calculated checksum.");
            }
            if (headers.TryGetValue("x-amz-sdk-checksum-algorithm", out var algorithm) && !headers.ContainsKey("x-amz-checksum-" + algorithm.ToLowerInvariant())
                && !headers.ContainsKey("x-amz-trailer"))
            {
                return fake.Refuse(400, "InvalidRequest", "x-amz-sdk-checksum-algorithm without its x-amz-checksum header");
            }
            fake.Objects[bucket + "/" + key] = new StoredObject(bucket, key, body, headers, credential!.Region);
            http.Response.Headers.ETag = "\"" + Convert.ToHexStringLower(SHA256.HashData(body))[..32] + "\"";
            return Results.Ok();
        }));
        return fake;
    }

    private IResult Refuse(int status, string code, string message)
    {
        Rejected.Enqueue($"{code}: {message}");
        return Results.Content($"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{System.Security.SecurityElement.Escape(message)}</Message></Error>",
            "application/xml", statusCode: status);
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

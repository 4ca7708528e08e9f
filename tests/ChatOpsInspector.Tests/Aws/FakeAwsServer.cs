using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ChatOpsInspector.Tests.Aws;

/// <summary>What a fake AWS endpoint received, exactly as it arrived.</summary>
internal sealed record RecordedRequest(
    int Sequence,
    string Method,
    string RawTarget,
    IReadOnlyDictionary<string, string[]> Headers,
    byte[] Body)
{
    public string Path => RawTarget.Split('?', 2)[0];

    public string Query => RawTarget.Contains('?', StringComparison.Ordinal) ? RawTarget.Split('?', 2)[1] : "";

    public string BodyText => Encoding.UTF8.GetString(Body);

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    public string? Header(string name) => Headers.TryGetValue(name, out var values) ? string.Join(',', values) : null;
}

/// <summary>
/// A real Kestrel server on 127.0.0.1 with an ephemeral port that records every request and lets
/// the test decide each answer.
/// </summary>
internal sealed class FakeAwsServer : IAsyncDisposable
{
    private readonly WebApplication app;
    private readonly ConcurrentQueue<RecordedRequest> requests = new();
    private int sequence;

    private FakeAwsServer(WebApplication app) => this.app = app;

    public Uri BaseUri { get; private set; } = null!;

    public IReadOnlyList<RecordedRequest> Requests => [.. requests];

    public static async Task<FakeAwsServer> StartAsync(Func<RecordedRequest, HttpResponse, Task> respond)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { EnvironmentName = "Test" });
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var server = new FakeAwsServer(app);
        app.Run(async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var recorded = new RecordedRequest(
                Interlocked.Increment(ref server.sequence),
                context.Request.Method,
                context.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.Select(v => v ?? "").ToArray(), StringComparer.OrdinalIgnoreCase),
                buffer.ToArray());
            server.requests.Enqueue(recorded);
            await respond(recorded, context.Response);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        server.BaseUri = new Uri(address);
        return server;
    }

    public static async Task Reply(HttpResponse response, int status, string json, string requestId, string contentType = "application/json", params (string Name, string Value)[] headers)
    {
        response.StatusCode = status;
        response.ContentType = contentType;
        response.Headers["x-amzn-RequestId"] = requestId;
        foreach (var (name, value) in headers)
        {
            response.Headers[name] = value;
        }

        await response.WriteAsync(json);
    }

    public async ValueTask DisposeAsync()
    {
        await app.StopAsync();
        await app.DisposeAsync();
    }
}

using System.Collections.Concurrent;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// Slack's Web API on loopback: chat.postMessage answers {ok, channel, ts}, chat.update ok, users.info a
/// user. It counts every call per channel and second, which card each post carries, and can answer a
/// share of calls with 429 (Retry-After) or 500 without doing anything, as the real API does.
/// </summary>
internal sealed partial class FakeSlack : IAsyncDisposable
{
    private readonly WebApplication _app;
    private long _ts;
    private long _calls;
    private long _injected;
    private readonly ConcurrentDictionary<string, long> _methods = new();
    private readonly ConcurrentDictionary<string, int> _cardPosts = new();
    private readonly ConcurrentDictionary<string, string> _groupOfTs = new();
    private readonly ConcurrentDictionary<string, int> _updates = new();
    private readonly ConcurrentDictionary<(string Channel, long Second), int> _perSecond = new();
    private readonly ConcurrentQueue<(string Group, string Text)> _notes = new();
    private readonly ConcurrentQueue<string> _cardBodies = new();
    private readonly ConcurrentQueue<string> _responses = new();
    private readonly ConcurrentDictionary<string, string> _responsesById = new();

    /// <summary>Share of calls answered 429 or 500 (alternating), 0 to 1.</summary>
    public double FailureRate { get; set; }

    /// <summary>Keep card bodies (hostile scenario checks escaping); off under load.</summary>
    public bool KeepBodies { get; set; }

    public string BaseUrl { get; private set; } = "";

    private FakeSlack(WebApplication app) => _app = app;

    public static async Task<FakeSlack> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var fake = new FakeSlack(app);
        app.MapPost("/api/{method}", fake.HandleAsync);
        app.MapPost("/response/{id}", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            var body = await reader.ReadToEndAsync();
            fake._responses.Enqueue(body);
            fake._responsesById[(string)context.Request.RouteValues["id"]!] = body;
            return Results.Text("ok");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        fake.BaseUrl = address.TrimEnd('/') + "/";
        return fake;
    }

    public string ApiBaseUrl => BaseUrl + "api/";

    public string ResponseUrl(string id) => BaseUrl + "response/" + id;

    private async Task<IResult> HandleAsync(string method, HttpContext context)
    {
        Interlocked.Increment(ref _calls);
        _methods.AddOrUpdate(method, 1, (_, n) => n + 1);
        using var reader = new StreamReader(context.Request.Body);
        var body = await reader.ReadToEndAsync();
        string? channel = null, threadTs = null, ts = null, text = null;
        if (body.StartsWith('{'))
        {
            using var doc = JsonDocument.Parse(body);
            var root = doc.RootElement;
            channel = Str(root, "channel");
            threadTs = Str(root, "thread_ts");
            ts = Str(root, "ts");
            text = Str(root, "text");
        }
        if (channel is not null && method is "chat.postMessage" or "chat.update")
        {
            _perSecond.AddOrUpdate((channel, DateTimeOffset.UtcNow.ToUnixTimeSeconds()), 1, (_, n) => n + 1);
        }
        if (FailureRate > 0 && Random.Shared.NextDouble() < FailureRate)
        {
            var n = Interlocked.Increment(ref _injected);
            if (n % 2 == 0)
            {
                context.Response.Headers.RetryAfter = "1";
                return Results.Json(new { ok = false, error = "ratelimited" }, statusCode: 429);
            }
            return Results.Text("upstream error", statusCode: 500);
        }
        switch (method)
        {
            case "chat.postMessage":
            {
                var newTs = $"{1_700_000_000 + Interlocked.Increment(ref _ts)}.000100";
                if (threadTs is null)
                {
                    var group = GroupInCard(body) ?? "?";
                    _cardPosts.AddOrUpdate(group, 1, (_, c) => c + 1);
                    _groupOfTs[newTs] = group;
                    if (KeepBodies)
                    {
                        _cardBodies.Enqueue(body);
                    }
                }
                else
                {
                    _notes.Enqueue((_groupOfTs.GetValueOrDefault(threadTs, "?"), text ?? ""));
                }
                return Results.Json(new { ok = true, channel, ts = newTs });
            }
            case "chat.update":
                _updates.AddOrUpdate(ts is not null ? _groupOfTs.GetValueOrDefault(ts, "?") : "?", 1, (_, c) => c + 1);
                if (KeepBodies)
                {
                    _cardBodies.Enqueue(body);
                }
                return Results.Json(new { ok = true, channel, ts });
            case "users.info":
                // The bot asks with a form body (read above) or a query string; one shared e-mail would make every user one person.
                var id = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(body).TryGetValue("user", out var fromBody)
                    ? fromBody.ToString()
                    : context.Request.Query["user"].ToString();
                id = string.IsNullOrEmpty(id) ? "U0" : id;
                return Results.Json(new { ok = true, user = new { id, name = id.ToLowerInvariant(), real_name = "User " + id, profile = new { email = id.ToLowerInvariant() + "@example.com", real_name = "User " + id } } });
            default:
                return Results.Json(new { ok = true });
        }
    }

    private static string? Str(JsonElement root, string name) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? GroupInCard(string body) => ActionGroup().Match(body) is { Success: true } m ? m.Groups[1].Value : null;

    [GeneratedRegex(@"""action_id""\s*:\s*""[a-z_]+:([0-9a-f]{10})")]
    private static partial Regex ActionGroup();

    public long Calls => Interlocked.Read(ref _calls);
    public long Injected => Interlocked.Read(ref _injected);
    public IReadOnlyDictionary<string, long> Methods => _methods;

    /// <summary>Successful card posts (chat.postMessage without thread) per group id.</summary>
    public IReadOnlyDictionary<string, int> CardPosts => _cardPosts;
    public IReadOnlyDictionary<string, int> Updates => _updates;
    public IReadOnlyCollection<(string Group, string Text)> Notes => _notes;
    public IReadOnlyCollection<string> CardBodies => _cardBodies;
    public IReadOnlyCollection<string> ResponseUrlBodies => _responses;

    /// <summary>The last body posted to <see cref="ResponseUrl"/>(<paramref name="id"/>), or null.</summary>
    public string? ResponseTo(string id) => _responsesById.TryGetValue(id, out var body) ? body : null;

    /// <summary>The most post/update calls any one channel received within one second.</summary>
    public int MaxCallsPerChannelSecond => _perSecond.IsEmpty ? 0 : _perSecond.Values.Max();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

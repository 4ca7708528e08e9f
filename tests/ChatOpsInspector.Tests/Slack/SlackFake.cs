using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using ChatOpsInspector.Slack;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// Slack's Web API and response_url hooks on 127.0.0.1: answers like Slack, records every call, and can
/// be told to fail the next calls of a method (429 with Retry-After, 5xx, ok:false).
/// </summary>
public sealed class SlackFake : IAsyncDisposable
{
    private long _ts = 1_700_000_000_000_000;

    public FakeServer Server { get; private set; } = null!;

    /// <summary>Failures to serve instead of success, per API method, in order.</summary>
    public ConcurrentDictionary<string, ConcurrentQueue<(int Status, string? RetryAfter, string Body)>> Failures { get; } = new();

    public string BaseUrl => Server.BaseUrl;

    /// <summary>Bytes POSTed to each upload_url handed out by files.getUploadURLExternal, by file id.</summary>
    public ConcurrentDictionary<string, byte[]> Uploads { get; } = new();

    /// <summary>Slowness per API method, to play a Slack that takes its time.</summary>
    public ConcurrentDictionary<string, TimeSpan> Delays { get; } = new();

    /// <summary>When each API call arrived, to check that retries waited.</summary>
    public ConcurrentQueue<(string Method, DateTimeOffset At)> Arrivals { get; } = new();

    /// <summary>People users.lookupByEmail finds: e-mail → user id; any other address answers users_not_found.</summary>
    public ConcurrentDictionary<string, string> Emails { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>What apps.connections.open hands out (Socket Mode); null: the call fails as for a bot token.</summary>
    public Func<string>? SocketUrl { get; set; }

    public static async Task<SlackFake> StartAsync()
    {
        var fake = new SlackFake();
        fake.Server = await FakeServer.StartAsync((app, _) =>
        {
            app.MapPost("/hooks/{**rest}", (HttpContext context) =>
            {
                if (!fake.Failures.TryGetValue("hooks", out var failures) || !failures.TryDequeue(out var failure))
                {
                    return Results.Text("ok");
                }
                if (failure.RetryAfter is not null)
                {
                    context.Response.Headers["Retry-After"] = failure.RetryAfter;
                }
                return Results.Text(failure.Body, "text/plain", statusCode: failure.Status);
            });
            // Where files.getUploadURLExternal sends the bytes: kept raw, per file id.
            app.MapPost("/upload/{fileId}", async (string fileId, HttpContext context) =>
            {
                using var bytes = new MemoryStream();
                await context.Request.Body.CopyToAsync(bytes);
                fake.Uploads[fileId] = bytes.ToArray();
                return Results.Text("OK - " + bytes.Length);
            });
            app.MapPost("/{method}", async (string method, HttpContext context) => await fake.AnswerAsync(method, context));
        });
        return fake;
    }

    /// <summary>Fails the next call of an API method, or of any response_url when <paramref name="method"/> is "hooks".</summary>
    public void FailNext(string method, int status, string? retryAfter = null, string body = "") =>
        Failures.GetOrAdd(method, _ => new()).Enqueue((status, retryAfter, body));

    public string NewResponseUrl() => $"{BaseUrl}hooks/actions/T1/{Guid.NewGuid():n}";

    public IReadOnlyList<JsonObject> Calls(string method) =>
        Server.To("/" + method).Where(r => !r.Path.StartsWith("/hooks", StringComparison.Ordinal))
            .Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToArray();

    public IReadOnlyList<RecordedRequest> Raw(string method) => Server.To("/" + method).ToArray();

    /// <summary>Messages posted to one response_url.</summary>
    public IReadOnlyList<JsonObject> Responses(string responseUrl)
    {
        var path = new Uri(responseUrl).AbsolutePath;
        return Server.To(path).Select(r => JsonNode.Parse(r.Body)!.AsObject()).ToArray();
    }

    public async Task<JsonObject> ResponseAsync(string responseUrl, string what = "a response_url message")
    {
        JsonObject? found = null;
        await TestApp.Eventually(() =>
        {
            var responses = Responses(responseUrl);
            found = responses.Count > 0 ? responses[0] : null;
            return Task.FromResult(found is not null);
        }, what);
        return found!;
    }

    private async Task<IResult> AnswerAsync(string method, HttpContext context)
    {
        Arrivals.Enqueue((method, DateTimeOffset.UtcNow));
        if (Delays.TryGetValue(method, out var delay))
        {
            await Task.Delay(delay);
        }
        if (Failures.TryGetValue(method, out var queue) && queue.TryDequeue(out var failure))
        {
            if (failure.RetryAfter is not null)
            {
                context.Response.Headers["Retry-After"] = failure.RetryAfter;
            }
            return Results.Text(failure.Body, "application/json", statusCode: failure.Status);
        }
        var body = await new StreamReader(context.Request.Body).ReadToEndAsync();
        // Integer arithmetic: as a double, 1700000000.000001 rounds to the previous ts and two messages would share one.
        var n = Interlocked.Increment(ref _ts);
        var ts = string.Create(CultureInfo.InvariantCulture, $"{n / 1_000_000}.{n % 1_000_000:D6}");
        JsonObject answer = method switch
        {
            "chat.postMessage" => new() { ["ok"] = true, ["channel"] = JsonNode.Parse(body)?["channel"]?.GetValue<string>(), ["ts"] = ts },
            "chat.update" => new() { ["ok"] = true, ["channel"] = JsonNode.Parse(body)?["channel"]?.GetValue<string>(), ["ts"] = JsonNode.Parse(body)?["ts"]?.GetValue<string>() },
            "chat.postEphemeral" => new() { ["ok"] = true, ["message_ts"] = ts },
            "views.open" => new() { ["ok"] = true, ["view"] = new JsonObject { ["id"] = "V" + ts.Replace(".", "", StringComparison.Ordinal) } },
            "users.info" => UserInfo(body),
            // https://docs.slack.dev/reference/methods/files.getUploadURLExternal: answers upload_url and file_id.
            "files.getUploadURLExternal" => UploadTicket(ts),
            "files.completeUploadExternal" => new() { ["ok"] = true, ["files"] = JsonNode.Parse(body)?["files"]?.DeepClone() },
            "conversations.open" => new()
            {
                ["ok"] = true,
                ["channel"] = new JsonObject { ["id"] = "D" + JsonNode.Parse(body)?["users"]?.GetValue<string>() },
            },
            "users.lookupByEmail" => LookupByEmail(body),
            "apps.connections.open" when SocketUrl is { } socketUrl => new() { ["ok"] = true, ["url"] = socketUrl() },
            _ => new() { ["ok"] = false, ["error"] = "unknown_method" },
        };
        return Results.Text(answer.ToJsonString(), "application/json; charset=utf-8");
    }

    private JsonObject UploadTicket(string ts)
    {
        var fileId = "F" + ts.Replace(".", "", StringComparison.Ordinal);
        return new() { ["ok"] = true, ["upload_url"] = $"{BaseUrl}upload/{fileId}", ["file_id"] = fileId };
    }

    /// <summary>As documented (docs.slack.dev/reference/methods/users.lookupByEmail): <c>{ok, user:{id,…}}</c>, or <c>users_not_found</c>.</summary>
    private JsonObject LookupByEmail(string form)
    {
        var email = Uri.UnescapeDataString(form.Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == "email")[1]);
        return Emails.TryGetValue(email, out var id)
            ? new JsonObject { ["ok"] = true, ["user"] = new JsonObject { ["id"] = id, ["name"] = id.ToLowerInvariant(), ["profile"] = new JsonObject { ["email"] = email } } }
            : new JsonObject { ["ok"] = false, ["error"] = "users_not_found" };
    }

    private static JsonObject UserInfo(string form)
    {
        var user = Uri.UnescapeDataString(form.Split('&').Select(p => p.Split('=', 2)).First(p => p[0] == "user")[1]);
        var email = user == SlackApp.SuppressorId ? SlackApp.SuppressorEmail : user.ToLowerInvariant() + "@example.com";
        return new JsonObject
        {
            ["ok"] = true,
            ["user"] = new JsonObject
            {
                ["id"] = user,
                ["name"] = user.ToLowerInvariant(),
                ["profile"] = new JsonObject { ["display_name"] = "Name " + user, ["email"] = email },
            },
        };
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>Signs requests the way Slack does.</summary>
public static class SlackSigner
{
    public static HttpRequestMessage Signed(string path, string body, string contentType, string secret, DateTimeOffset? at = null)
    {
        var timestamp = (at ?? DateTimeOffset.UtcNow).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes(body);
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(bytes) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        request.Headers.Add(SlackSignature.TimestampHeader, timestamp);
        request.Headers.Add(SlackSignature.SignatureHeader, Encoding.ASCII.GetString(SlackSignature.Compute(secret, timestamp, bytes)));
        return request;
    }

    public static string Form(params (string Key, string Value)[] fields) =>
        string.Join('&', fields.Select(f => $"{Uri.EscapeDataString(f.Key)}={Uri.EscapeDataString(f.Value)}"));
}

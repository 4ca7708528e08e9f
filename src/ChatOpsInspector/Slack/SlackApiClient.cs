using System.Collections.Frozen;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// The few Slack Web API methods the bot uses, plus replies to <c>response_url</c>s. Never throws for
/// Slack's or the network's failures: callers get a <see cref="SlackApiResult"/> that says whether to retry.
/// A singleton that takes a fresh client from the factory per call, so handler rotation still applies.
/// </summary>
internal sealed partial class SlackApiClient(IHttpClientFactory clients, IOptionsMonitor<SlackOptions> options, ILogger<SlackApiClient> logger)
{
    public const string HttpClientName = "slack";

    private static readonly MediaTypeHeaderValue JsonUtf8 = new("application/json") { CharSet = "utf-8" };

    public Task<SlackApiResult> PostMessageAsync(string channel, string text, JsonArray? blocks, string? threadTs, CancellationToken cancellationToken, bool broadcast = false)
    {
        var body = new JsonObject
        {
            ["channel"] = channel,
            ["text"] = text,
            ["unfurl_links"] = false,
            ["unfurl_media"] = false,
        };
        if (blocks is not null)
        {
            body["blocks"] = blocks;
        }
        if (threadTs is not null)
        {
            body["thread_ts"] = threadTs;
            if (broadcast)
            {
                // "Used in conjunction with thread_ts": the reply is also shown in the channel.
                body["reply_broadcast"] = true;
            }
        }
        return CallAsync("chat.postMessage", body, cancellationToken);
    }

    public Task<SlackApiResult> UpdateAsync(string channel, string ts, string text, JsonArray blocks, CancellationToken cancellationToken) =>
        CallAsync("chat.update", new JsonObject
        {
            ["channel"] = channel,
            ["ts"] = ts,
            ["text"] = text,
            ["blocks"] = blocks,
        }, cancellationToken);

    public Task<SlackApiResult> PostEphemeralAsync(string channel, string user, string text, JsonArray? blocks, CancellationToken cancellationToken, string? threadTs = null)
    {
        var body = new JsonObject { ["channel"] = channel, ["user"] = user, ["text"] = text };
        if (threadTs is not null)
        {
            body["thread_ts"] = threadTs;
        }
        if (blocks is not null)
        {
            body["blocks"] = blocks;
        }
        return CallAsync("chat.postEphemeral", body, cancellationToken);
    }

    public Task<SlackApiResult> OpenViewAsync(string triggerId, JsonObject view, CancellationToken cancellationToken) =>
        CallAsync("views.open", new JsonObject { ["trigger_id"] = triggerId, ["view"] = view }, cancellationToken);

    /// <summary>Name and e-mail of a user (needs users:read and users:read.email); null when Slack cannot say.</summary>
    public async Task<SlackUser?> UserInfoAsync(string userId, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "users.info")
        {
            Content = new FormUrlEncodedContent([new("user", userId)]),
        };
        var result = await SendAsync("users.info", request, authorize: true, cancellationToken);
        if (!result.Ok || result.Body?["user"] is not JsonObject user)
        {
            return null;
        }
        var profile = user["profile"] as JsonObject;
        var name = Text(profile?["display_name"]) ?? Text(profile?["real_name"]) ?? Text(user["real_name"]) ?? Text(user["name"]) ?? userId;
        return new SlackUser(userId, name, Text(profile?["email"]));
    }

    /// <summary>The bot's direct-message channel with a person (conversations.open, scope im:write), or null.</summary>
    public async Task<string?> OpenDirectMessageAsync(string userId, CancellationToken cancellationToken)
    {
        var result = await CallAsync("conversations.open", new JsonObject { ["users"] = userId }, cancellationToken);
        return result.Ok ? Text(result.Body?["channel"]?["id"]) : null;
    }

    /// <summary>
    /// Shares a file in a channel (or a thread of it) through Slack's external upload (scope files:write):
    /// files.getUploadURLExternal, the bytes POSTed to the upload_url it returns, files.completeUploadExternal.
    /// The upload_url must be on Slack's file host or the configured API host, so a tampered answer cannot
    /// send the file elsewhere; it is pre-signed, so the bot token never goes with the bytes.
    /// </summary>
    public async Task<SlackApiResult> UploadFileAsync(
        string channel, string? threadTs, string fileName, byte[] content, string title, string altText, string? comment, CancellationToken cancellationToken)
    {
        using (var request = new HttpRequestMessage(HttpMethod.Post, "files.getUploadURLExternal")
        {
            Content = new FormUrlEncodedContent(
            [
                new("filename", fileName),
                new("length", content.Length.ToString(CultureInfo.InvariantCulture)),
                new("alt_txt", altText.Length <= 1000 ? altText : altText[..1000]),
            ]),
        })
        {
            var ticket = await SendAsync("files.getUploadURLExternal", request, authorize: true, cancellationToken);
            if (!ticket.Ok)
            {
                return ticket;
            }
            var uploadUrl = Text(ticket.Body?["upload_url"]);
            var fileId = Text(ticket.Body?["file_id"]);
            if (fileId is null || !IsAllowedUploadUrl(uploadUrl, out var target))
            {
                LogUploadUrlRefused();
                return SlackApiResult.Failure("upload_url_not_allowed");
            }
            using var upload = new HttpRequestMessage(HttpMethod.Post, target) { Content = new ByteArrayContent(content) };
            upload.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            var sent = await SendAsync("upload_url", upload, authorize: false, cancellationToken, envelope: false);
            if (!sent.Ok)
            {
                return sent;
            }
            var complete = new JsonObject
            {
                ["files"] = new JsonArray(new JsonObject { ["id"] = fileId, ["title"] = title }),
                ["channel_id"] = channel,
            };
            if (threadTs is not null)
            {
                complete["thread_ts"] = threadTs;
            }
            if (comment is not null)
            {
                complete["initial_comment"] = comment;
            }
            return await CallAsync("files.completeUploadExternal", complete, cancellationToken);
        }
    }

    /// <summary>https on files.slack.com or the host of <see cref="SlackOptions.ApiBaseUrl"/>; plain http only on loopback.</summary>
    internal bool IsAllowedUploadUrl(string? url, out Uri target)
    {
        target = null!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || !string.IsNullOrEmpty(uri.UserInfo))
        {
            return false;
        }
        var host = uri.Host;
        if (!host.Equals(SlackFileHost, StringComparison.OrdinalIgnoreCase)
            && !host.Equals(options.CurrentValue.ApiBaseUrl.Host, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }
        if (uri.Scheme != Uri.UriSchemeHttps && !(uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
        {
            return false;
        }
        target = uri;
        return true;
    }

    public const string SlackFileHost = "files.slack.com";

    /// <summary>The Slack user with this e-mail (<c>users.lookupByEmail</c>, scope users:read.email); <c>users_not_found</c> when there is none.</summary>
    public async Task<SlackApiResult> LookupByEmailAsync(string email, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "users.lookupByEmail")
        {
            Content = new FormUrlEncodedContent([new("email", email)]),
        };
        return await SendAsync("users.lookupByEmail", request, authorize: true, cancellationToken);
    }

    /// <summary>Answers through a <c>response_url</c>; refuses URLs outside <see cref="SlackOptions.ResponseUrlHosts"/>.</summary>
    public async Task<SlackApiResult> RespondAsync(string responseUrl, JsonObject message, CancellationToken cancellationToken)
    {
        if (!options.CurrentValue.IsAllowedResponseUrl(responseUrl))
        {
            LogResponseUrlRefused();
            return SlackApiResult.Failure("response_url_not_allowed");
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(responseUrl))
        {
            Content = Json(message),
        };
        // response_url answers are plain "ok" text, not the Web API envelope.
        return await SendAsync("response_url", request, authorize: false, cancellationToken, envelope: false);
    }

    private async Task<SlackApiResult> CallAsync(string method, JsonObject body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, method) { Content = Json(body) };
        return await SendAsync(method, request, authorize: true, cancellationToken);
    }

    private async Task<SlackApiResult> SendAsync(string method, HttpRequestMessage request, bool authorize, CancellationToken cancellationToken, bool envelope = true)
    {
        if (authorize)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.CurrentValue.BotToken);
        }
        try
        {
            var http = clients.CreateClient(HttpClientName);
            using var response = await http.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                var after = RetryAfter(response) ?? TimeSpan.FromSeconds(1);
                LogThrottled(method, after);
                return SlackApiResult.Retry("ratelimited", after);
            }
            if ((int)response.StatusCode >= 500 || response.StatusCode == HttpStatusCode.RequestTimeout)
            {
                LogHttpFailure(method, (int)response.StatusCode);
                return SlackApiResult.Retry($"http_{(int)response.StatusCode}", RetryAfter(response));
            }
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                LogHttpFailure(method, (int)response.StatusCode);
                return SlackApiResult.Failure(FirstWord(text) ?? $"http_{(int)response.StatusCode}");
            }
            if (!envelope)
            {
                return SlackApiResult.Success(null);
            }
            var json = JsonNode.Parse(text) as JsonObject;
            if (json?["ok"]?.GetValueKind() == JsonValueKind.True)
            {
                return SlackApiResult.Success(json);
            }
            var error = Text(json?["error"]) ?? "invalid_response";
            LogApiError(method, error);
            return error switch
            {
                "ratelimited" => SlackApiResult.Retry(error, RetryAfter(response) ?? TimeSpan.FromSeconds(1)),
                _ when TransientErrors.Contains(error) => SlackApiResult.Retry(error, RetryAfter(response)),
                _ => SlackApiResult.Failure(error, json),
            };
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            LogNetworkFailure(method, "timeout");
            return SlackApiResult.Retry("timeout", null);
        }
        catch (HttpRequestException ex)
        {
            LogNetworkFailure(method, ex.HttpRequestError.ToString());
            return SlackApiResult.Retry("network_error", null);
        }
        catch (JsonException)
        {
            LogApiError(method, "invalid_json");
            return SlackApiResult.Retry("invalid_json", null);
        }
    }

    /// <summary>
    /// <c>ok:false</c> errors that say Slack failed, not the request (Web API docs, "Errors" of every method):
    /// worth another try later, unlike <c>channel_not_found</c> or <c>invalid_auth</c>.
    /// </summary>
    internal static readonly FrozenSet<string> TransientErrors =
        new[] { "internal_error", "fatal_error", "service_unavailable", "request_timeout" }.ToFrozenSet(StringComparer.Ordinal);

    /// <summary><c>chat.update</c> errors meaning the message is gone (deleted, or no longer the bot's to edit): post it again.</summary>
    internal static readonly FrozenSet<string> MessageGoneErrors =
        new[] { "message_not_found", "cant_update_message" }.ToFrozenSet(StringComparer.Ordinal);

    private static StringContent Json(JsonObject body)
    {
        var content = new StringContent(body.ToJsonString(), Encoding.UTF8);
        content.Headers.ContentType = JsonUtf8;
        return content;
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter?.Delta is { } delta)
        {
            return delta;
        }
        if (response.Headers.RetryAfter?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return response.Headers.TryGetValues("Retry-After", out var values)
            && int.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var seconds)
            ? TimeSpan.FromSeconds(seconds)
            : null;
    }

    private static string? Text(JsonNode? node) =>
        node?.GetValueKind() == JsonValueKind.String && node.GetValue<string>() is { Length: > 0 } s ? s : null;

    private static string? FirstWord(string text)
    {
        var word = text.Trim().Split((char[]?)null, 2, StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return word is { Length: > 0 and <= 64 } && word.All(c => char.IsAsciiLetterOrDigit(c) || c == '_') ? word : null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} throttled; retry after {RetryAfter}")]
    private partial void LogThrottled(string method, TimeSpan retryAfter);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} answered HTTP {Status}")]
    private partial void LogHttpFailure(string method, int status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} failed: {Error}")]
    private partial void LogApiError(string method, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Method} unreachable: {Reason}")]
    private partial void LogNetworkFailure(string method, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a Slack upload_url outside files.slack.com and Slack:ApiBaseUrl")]
    private partial void LogUploadUrlRefused();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to answer a response_url outside Slack:ResponseUrlHosts")]
    private partial void LogResponseUrlRefused();
}

internal sealed record SlackApiResult(bool Ok, string? Error, bool Transient, TimeSpan? RetryAfter, JsonObject? Body)
{
    public string? Ts => Body?["ts"].Str();
    public string? Channel => Body?["channel"].Str();

    public static SlackApiResult Success(JsonObject? body) => new(true, null, false, null, body);
    public static SlackApiResult Retry(string error, TimeSpan? after) => new(false, error, true, after, null);
    public static SlackApiResult Failure(string error, JsonObject? body = null) => new(false, error, false, null, body);
}

internal sealed record SlackUser(string Id, string Name, string? Email);

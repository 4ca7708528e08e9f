using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Identity.Client;
using LogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ChatOpsInspector.Teams;

/// <summary>Outcome of one Bot Connector call, before it is mapped to the caller's result type.</summary>
internal sealed record ConnectorResult(HttpStatusCode? Status, string? Error = null, TimeSpan? RetryAfter = null, string? Id = null, string? ActivityId = null)
{
    public bool Ok => Error is null;

    /// <summary>Throttled, server-side or network trouble: worth trying again later.</summary>
    public bool Transient => Status is null && Error != ConnectorClient.NotAllowed
        || Status is HttpStatusCode.TooManyRequests || (int?)Status >= 500;
}

/// <summary>
/// The Bot Connector REST API (v3) on a conversation's service URL: start a channel thread or a 1:1
/// chat, send, reply and update activities. Refuses service URLs outside <see cref="ServiceUrlPolicy"/>
/// before a token is even fetched.
/// </summary>
internal sealed partial class ConnectorClient(
    IHttpClientFactory httpClients,
    BotTokenProvider tokens,
    ServiceUrlPolicy policy,
    LocalDevelopmentAuth local,
    ILogger<ConnectorClient> logger)
{
    public const string HttpClientName = "teams-connector";
    public const string NotAllowed = "service_url_not_allowed";

    /// <summary>A new thread in a Teams channel whose first message is <paramref name="activity"/>.</summary>
    public Task<ConnectorResult> CreateChannelThreadAsync(ConversationReference channel, Activity activity, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, channel.ServiceUrl, "v3/conversations", new ConversationParameters
        {
            IsGroup = true,
            Bot = new ChannelAccount(channel.BotId, channel.BotName),
            TenantId = channel.TenantId,
            ChannelData = new TeamsChannelData
            {
                Channel = new TeamsInfo(channel.ConversationId),
                Tenant = new TeamsInfo(channel.TenantId),
            },
            Activity = activity,
        }, TeamsJson.Default.ConversationParameters, cancellationToken);

    /// <summary>A 1:1 chat with a user (by Teams user id or AAD object id), created if needed; returns its id.</summary>
    public Task<ConnectorResult> CreatePersonalChatAsync(string serviceUrl, string tenantId, string botId, string userId, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, serviceUrl, "v3/conversations", new ConversationParameters
        {
            IsGroup = false,
            Bot = new ChannelAccount(botId),
            Members = [new ChannelAccount(userId)],
            TenantId = tenantId,
            ChannelData = new TeamsChannelData { Tenant = new TeamsInfo(tenantId) },
        }, TeamsJson.Default.ConversationParameters, cancellationToken);

    /// <summary>Posts into a conversation; with <paramref name="replyToId"/>, as a reply to that activity.</summary>
    public Task<ConnectorResult> SendAsync(string serviceUrl, string conversationId, string? replyToId, Activity activity, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Post, serviceUrl,
            $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities" + (replyToId is null ? "" : "/" + Uri.EscapeDataString(replyToId)),
            activity, TeamsJson.Default.Activity, cancellationToken);

    public Task<ConnectorResult> UpdateAsync(string serviceUrl, string conversationId, string activityId, Activity activity, CancellationToken cancellationToken) =>
        SendAsync(HttpMethod.Put, serviceUrl,
            $"v3/conversations/{Uri.EscapeDataString(conversationId)}/activities/{Uri.EscapeDataString(activityId)}",
            activity with { Id = activityId }, TeamsJson.Default.Activity, cancellationToken);

    /// <summary>One member of a team or chat, with the e-mail Teams knows for them; null when unavailable.</summary>
    public async Task<(TeamsMember? Member, ConnectorResult Result)> GetMemberAsync(string serviceUrl, string conversationId, string userId, CancellationToken cancellationToken)
    {
        if (!policy.IsAllowed(serviceUrl))
        {
            LogServiceUrlRefused(SafeHost(serviceUrl));
            return (null, new ConnectorResult(null, NotAllowed));
        }
        var url = new Uri(new Uri(serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/"),
            $"v3/conversations/{Uri.EscapeDataString(conversationId)}/members/{Uri.EscapeDataString(userId)}");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            await AuthorizeAsync(request, serviceUrl, cancellationToken);
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                return (null, new ConnectorResult(response.StatusCode, await ErrorCodeAsync(response, cancellationToken)));
            }
            var member = await response.Content.ReadFromJsonAsync(TeamsJson.Default.TeamsMember, cancellationToken);
            return (member, new ConnectorResult(response.StatusCode));
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or MsalException
                                   || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogCallError("GET", url.Host, ex.GetType().Name);
            return (null, new ConnectorResult(null, "network: " + ex.GetType().Name));
        }
    }

    private async Task<ConnectorResult> SendAsync<T>(HttpMethod method, string serviceUrl, string path, T body, JsonTypeInfo<T> type, CancellationToken cancellationToken)
    {
        if (!policy.IsAllowed(serviceUrl))
        {
            LogServiceUrlRefused(SafeHost(serviceUrl));
            return new ConnectorResult(null, NotAllowed);
        }
        var url = new Uri(new Uri(serviceUrl.EndsWith('/') ? serviceUrl : serviceUrl + "/"), path);
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                using var request = new HttpRequestMessage(method, url) { Content = JsonContent.Create(body, type) };
                await AuthorizeAsync(request, serviceUrl, cancellationToken);
                using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
                if (response.StatusCode == HttpStatusCode.Unauthorized && attempt == 0)
                {
                    // A token revoked or rotated early: fetch a new one and try once more.
                    tokens.Invalidate();
                    continue;
                }
                if (!response.IsSuccessStatusCode)
                {
                    var retryAfter = response.Headers.RetryAfter is { } ra
                        ? ra.Delta ?? (ra.Date is { } at ? at - DateTimeOffset.UtcNow : null)
                        : null;
                    var code = await ErrorCodeAsync(response, cancellationToken);
                    LogCallFailed(method.Method, url.Host, (int)response.StatusCode, code);
                    return new ConnectorResult(response.StatusCode, code, retryAfter);
                }
                var created = response.Content.Headers.ContentLength == 0
                    ? null
                    : await ReadResourceAsync(response, cancellationToken);
                return new ConnectorResult(response.StatusCode, Id: created?.Id, ActivityId: created?.ActivityId);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or JsonException or MsalException
                                   || (ex is TaskCanceledException && !cancellationToken.IsCancellationRequested))
        {
            LogCallError(method.Method, url.Host, ex.GetType().Name);
            return new ConnectorResult(null, "network: " + ex.GetType().Name);
        }
    }

    /// <summary>The bot's token, except for a local development connector, which gets none (there is no app id to get one for).</summary>
    private async Task AuthorizeAsync(HttpRequestMessage request, string serviceUrl, CancellationToken cancellationToken)
    {
        if (!local.IsLoopbackConnector(serviceUrl))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", await tokens.GetTokenAsync(cancellationToken));
        }
    }

    private static async Task<ConversationResourceResponse?> ReadResourceAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = await response.Content.ReadAsStringAsync(cancellationToken);
        return string.IsNullOrWhiteSpace(text) ? null : JsonSerializer.Deserialize(text, TeamsJson.Default.ConversationResourceResponse);
    }

    /// <summary>The connector's error code ("ConversationNotFound"…), or the HTTP status when the body has none.</summary>
    private static async Task<string> ErrorCodeAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
            if (doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object
                && error.TryGetProperty("code", out var code) && code.ValueKind == JsonValueKind.String)
            {
                return $"{(int)response.StatusCode} {code.GetString()}";
            }
        }
        catch (JsonException)
        {
        }
        return $"http_{(int)response.StatusCode}";
    }

    private static string SafeHost(string? url) => Uri.TryCreate(url, UriKind.Absolute, out var u) ? u.Host : "(invalid)";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused to call Bot Connector at {Host}: not in Teams:AllowedServiceUrls")]
    private partial void LogServiceUrlRefused(string host);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Connector {Method} to {Host} answered {Status} {Code}")]
    private partial void LogCallFailed(string method, string host, int status, string code);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot Connector {Method} to {Host} failed: {Error}")]
    private partial void LogCallError(string method, string host, string error);
}

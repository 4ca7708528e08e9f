using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Slack Socket Mode (api.slack.com/apis/connections/socket-implement): with <c>Slack:AppToken</c>, keeps
/// <c>Slack:SocketModeConnections</c> WebSockets opened through <c>apps.connections.open</c>, runs every
/// envelope through the same endpoint pipeline as <c>/api/slack/*</c> and acknowledges it by
/// <c>envelope_id</c>, with the handler's answer as payload where Slack accepts one. Reconnects at once on
/// <c>disconnect</c> (refresh, warning) and with backoff after drops. Slack redelivers an envelope that was
/// not acknowledged (<c>retry_attempt</c>); a redelivery joins the first run instead of starting another.
/// </summary>
internal sealed partial class SlackSocketMode(
    IHttpClientFactory httpClients,
    IServiceScopeFactory scopes,
    EndpointDataSource endpoints,
    IOptionsMonitor<SlackOptions> options,
    TimeProvider time,
    ILogger<SlackSocketMode> logger) : BackgroundService
{
    private static readonly object BodyKey = new();
    private static readonly TimeSpan Remember = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<string, (Task<JsonNode?> Run, DateTimeOffset At)> _envelopes = new();

    public static bool IsSocketModeRequest(HttpContext context) => context.Items.ContainsKey(BodyKey);

    public static byte[]? SocketModeBody(HttpContext context) => context.Items.TryGetValue(BodyKey, out var body) ? body as byte[] : null;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(Enumerable.Range(0, options.CurrentValue.SocketModeConnections).Select(i => KeepConnectedAsync(i, stoppingToken)));

    private async Task KeepConnectedAsync(int slot, CancellationToken stoppingToken)
    {
        var backoff = options.CurrentValue.SocketModeBackoff;
        while (!stoppingToken.IsCancellationRequested)
        {
            bool healthy;
            try
            {
                healthy = await RunConnectionAsync(slot, stoppingToken);
            }
            catch (Exception ex) when (ex is WebSocketException or HttpRequestException or IOException or JsonException or InvalidOperationException
                                       || (ex is OperationCanceledException && !stoppingToken.IsCancellationRequested))
            {
                AppMetrics.Errors.WithLabels("slack_socket").Inc();
                LogDropped(slot, ex.GetType().Name);
                healthy = false;
            }
            if (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            if (healthy)
            {
                backoff = options.CurrentValue.SocketModeBackoff;
                continue;  // asked to reconnect: at once
            }
            var jitter = TimeSpan.FromMilliseconds(Random.Shared.Next(0, (int)Math.Min(1000, backoff.TotalMilliseconds / 2) + 1));
            await Task.Delay(backoff + jitter, time, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, options.CurrentValue.SocketModeMaxBackoff.Ticks));
        }
    }

    /// <summary>One connection's life. True when Slack asked us to reconnect (disconnect message), false on a drop.</summary>
    private async Task<bool> RunConnectionAsync(int slot, CancellationToken stoppingToken)
    {
        var url = await OpenAsync(stoppingToken);
        using var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.FromSeconds(30);
        using (var connect = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
        {
            connect.CancelAfter(TimeSpan.FromSeconds(10));
            await socket.ConnectAsync(url, connect.Token);
        }
        var send = new SemaphoreSlim(1, 1);
        var pending = new List<Task>();
        try
        {
            while (true)
            {
                var text = await ReceiveAsync(socket, stoppingToken);
                if (text is null)
                {
                    LogClosed(slot, socket.CloseStatusDescription);
                    return false;
                }
                var message = JsonNode.Parse(text) as JsonObject;
                switch (message?["type"]?.GetValue<string>())
                {
                    case "hello":
                        LogConnected(slot, message["num_connections"]?.ToString());
                        continue;
                    case "disconnect":
                        LogDisconnect(slot, message["reason"]?.GetValue<string>() ?? "");
                        await CloseQuietlyAsync(socket, pending);
                        return true;
                }
                if (message?["envelope_id"]?.GetValue<string>() is not { Length: > 0 } envelopeId)
                {
                    continue;
                }
                // Envelopes are handled side by side: one slow handler must not hold up the next acknowledgement.
                pending.RemoveAll(t => t.IsCompleted);
                pending.Add(AcknowledgeAsync(socket, send, envelopeId, message, stoppingToken));
            }
        }
        finally
        {
            await Task.WhenAll(pending).ContinueWith(_ => { }, TaskScheduler.Default);
            send.Dispose();
        }
    }

    private async Task AcknowledgeAsync(ClientWebSocket socket, SemaphoreSlim send, string envelopeId, JsonObject envelope, CancellationToken stoppingToken)
    {
        Prune();
        var run = _envelopes.GetOrAdd(envelopeId, _ => (HandleAsync(envelope, stoppingToken), time.GetUtcNow())).Run;
        JsonNode? payload;
        try
        {
            payload = await run;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
        {
            // Not acknowledged: Slack redelivers, and the next attempt runs the handler again.
            _envelopes.TryRemove(envelopeId, out _);
            AppMetrics.Errors.WithLabels("slack_socket").Inc();
            LogHandlerFailed(envelopeId, ex.GetType().Name);
            return;
        }
        var ack = new JsonObject { ["envelope_id"] = envelopeId };
        if (payload is not null && envelope["accepts_response_payload"]?.GetValue<bool>() == true)
        {
            ack["payload"] = payload.DeepClone();
        }
        var bytes = Encoding.UTF8.GetBytes(ack.ToJsonString());
        await send.WaitAsync(stoppingToken);
        try
        {
            if (socket.State == WebSocketState.Open)
            {
                await socket.SendAsync(bytes, WebSocketMessageType.Text, true, stoppingToken);
            }
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or ObjectDisposedException)
        {
            // The connection went away before the acknowledgement; Slack redelivers it and the redelivery gets this answer.
            LogAckLost(envelopeId);
        }
        finally
        {
            send.Release();
        }
    }

    /// <summary>Runs the envelope through the matching /api/slack endpoint; its JSON answer, if any, is the acknowledgement payload.</summary>
    private async Task<JsonNode?> HandleAsync(JsonObject envelope, CancellationToken stoppingToken)
    {
        var payload = envelope["payload"] as JsonObject;
        var (path, body) = envelope["type"]?.GetValue<string>() switch
        {
            "slash_commands" when payload is not null => ("/api/slack/commands", FormOf(payload)),
            "interactive" when payload is not null => ("/api/slack/interactions", "payload=" + Uri.EscapeDataString(payload.ToJsonString())),
            "events_api" when payload is not null => ("/api/slack/events", payload.ToJsonString()),
            var other => (null, null),
        };
        if (path is null)
        {
            LogIgnored(envelope["type"]?.ToString() ?? "(none)");
            return null;
        }
        var endpoint = endpoints.Endpoints.OfType<RouteEndpoint>()
            .FirstOrDefault(e => string.Equals(e.RoutePattern.RawText, path, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No endpoint mapped at {path}.");
        await using var scope = scopes.CreateAsyncScope();
        using var response = new MemoryStream();
        var context = new DefaultHttpContext { RequestServices = scope.ServiceProvider };
        context.Request.Method = HttpMethods.Post;
        context.Request.Path = path;
        context.Request.ContentType = path.EndsWith("/events", StringComparison.Ordinal) ? "application/json" : "application/x-www-form-urlencoded";
        context.Items[BodyKey] = Encoding.UTF8.GetBytes(body!);
        context.Response.Body = response;
        context.RequestAborted = stoppingToken;
        context.SetEndpoint(endpoint);
        await endpoint.RequestDelegate!(context);
        if (context.Response.StatusCode >= 400)
        {
            LogRefused(path, context.Response.StatusCode);
            return null;
        }
        if (response.Length == 0)
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(response.ToArray()) as JsonObject;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string FormOf(JsonObject payload) => string.Join('&', payload
        .Where(p => p.Value is JsonValue)
        .Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value!.ToString())));

    private async Task<Uri> OpenAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "apps.connections.open");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", options.CurrentValue.AppToken);
        using var response = await httpClients.CreateClient(SlackApiClient.HttpClientName).SendAsync(request, cancellationToken);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken));
        if (body?["ok"]?.GetValue<bool>() != true || body["url"]?.GetValue<string>() is not { Length: > 0 } url
            || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != "wss" && !(uri.Scheme == "ws" && uri.IsLoopback)))
        {
            throw new HttpRequestException($"apps.connections.open answered {(int)response.StatusCode} {body?["error"]?.ToString() ?? "without a wss url"}");
        }
        return uri;
    }

    private static async Task<string?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return null;
            }
            message.Write(buffer, 0, result.Count);
            if (message.Length > 4 * 1024 * 1024)
            {
                throw new InvalidOperationException("Socket Mode message larger than 4 MiB.");
            }
            if (result.EndOfMessage)
            {
                return Encoding.UTF8.GetString(message.GetBuffer(), 0, (int)message.Length);
            }
        }
    }

    private static async Task CloseQuietlyAsync(ClientWebSocket socket, List<Task> pending)
    {
        // Let acknowledgements in flight go out first; Slack keeps the old connection briefly after a disconnect message.
        await Task.WhenAll(pending).ContinueWith(_ => { }, TaskScheduler.Default);
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "reconnecting", timeout.Token);
        }
        catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
        {
        }
    }

    private void Prune()
    {
        var cutoff = time.GetUtcNow() - Remember;
        foreach (var (id, entry) in _envelopes)
        {
            if (entry.At < cutoff && entry.Run.IsCompleted)
            {
                _envelopes.TryRemove(id, out _);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot} open ({Connections} connection(s))")]
    private partial void LogConnected(int slot, string? connections);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode connection {Slot}: disconnect ({Reason}); reconnecting")]
    private partial void LogDisconnect(int slot, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode connection {Slot} closed by Slack: {Reason}")]
    private partial void LogClosed(int slot, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode connection {Slot} dropped: {Error}; reconnecting with backoff")]
    private partial void LogDropped(int slot, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode envelope {EnvelopeId} failed ({Error}); left unacknowledged so Slack redelivers it")]
    private partial void LogHandlerFailed(string envelopeId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack Socket Mode acknowledgement of {EnvelopeId} lost with its connection")]
    private partial void LogAckLost(string envelopeId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Slack Socket Mode envelope of type {Type} ignored")]
    private partial void LogIgnored(string type);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack Socket Mode envelope for {Path} refused with {Status}")]
    private partial void LogRefused(string path, int status);
}

using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatOpsInspector.Tests.Slack;

/// <summary>
/// Slack's Socket Mode side on loopback: each ticket URL accepts one WebSocket, on which the test sends
/// hello, envelopes and disconnects and reads the bot's acknowledgements. Message shapes follow
/// https://api.slack.com/apis/connections/socket-implement ("hello", "disconnect" with reason
/// refresh_requested, envelopes with envelope_id, payload, type, accepts_response_payload, retry_attempt,
/// and acknowledgements {"envelope_id", "payload"?}).
/// </summary>
public sealed class SocketModeServer : IAsyncDisposable
{
    private readonly Channel<Connection> _connections = Channel.CreateUnbounded<Connection>();
    private int _tickets;

    public FakeServer Server { get; private set; } = null!;

    public static async Task<SocketModeServer> StartAsync()
    {
        var fake = new SocketModeServer();
        fake.Server = await FakeServer.StartAsync((app, _) =>
        {
            app.UseWebSockets();
            app.Map("/link", async (HttpContext context) =>
            {
                if (!context.WebSockets.IsWebSocketRequest)
                {
                    context.Response.StatusCode = 400;
                    return;
                }
                var connection = new Connection(await context.WebSockets.AcceptWebSocketAsync(), context.Request.QueryString.Value ?? "");
                fake._connections.Writer.TryWrite(connection);
                await connection.RunAsync();
            });
        });
        return fake;
    }

    /// <summary>A fresh single-use URL, as apps.connections.open returns.</summary>
    public string NextUrl() => $"{Server.BaseUrl.Replace("http://", "ws://", StringComparison.Ordinal)}link?ticket={Interlocked.Increment(ref _tickets)}";

    /// <summary>The next connection the bot opens, already greeted with hello.</summary>
    public async Task<Connection> NextConnectionAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var connection = await _connections.Reader.ReadAsync(timeout.Token);
        await connection.SendAsync(new JsonObject { ["type"] = "hello", ["num_connections"] = 1, ["connection_info"] = new JsonObject { ["app_id"] = "A123456" } });
        return connection;
    }

    public static JsonObject Envelope(string type, JsonObject payload, string? envelopeId = null, int retryAttempt = 0) => new()
    {
        ["envelope_id"] = envelopeId ?? Guid.NewGuid().ToString(),
        ["payload"] = payload,
        ["type"] = type,
        ["accepts_response_payload"] = type is "slash_commands" or "interactive",
        ["retry_attempt"] = retryAttempt,
        ["retry_reason"] = retryAttempt == 0 ? "" : "timeout",
    };

    public async ValueTask DisposeAsync() => await Server.DisposeAsync();

    public sealed class Connection(WebSocket socket, string query)
    {
        private readonly Channel<JsonObject> _received = Channel.CreateUnbounded<JsonObject>();
        private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public string Query { get; } = query;

        internal async Task RunAsync()
        {
            var buffer = new byte[64 * 1024];
            try
            {
                while (socket.State == WebSocketState.Open)
                {
                    using var message = new MemoryStream();
                    WebSocketReceiveResult result;
                    do
                    {
                        result = await socket.ReceiveAsync(buffer, CancellationToken.None);
                        message.Write(buffer, 0, result.Count);
                    }
                    while (!result.EndOfMessage && result.MessageType != WebSocketMessageType.Close);
                    if (result.MessageType == WebSocketMessageType.Close)
                    {
                        break;
                    }
                    _received.Writer.TryWrite(JsonNode.Parse(message.ToArray())!.AsObject());
                }
            }
            catch (Exception ex) when (ex is WebSocketException or IOException or OperationCanceledException)
            {
            }
            _closed.TrySetResult();
        }

        public Task SendAsync(JsonObject message) =>
            socket.SendAsync(Encoding.UTF8.GetBytes(message.ToJsonString()), WebSocketMessageType.Text, true, CancellationToken.None);

        /// <summary>The acknowledgement of <paramref name="envelopeId"/> (generous timeout: the test asserts that it comes, not how fast).</summary>
        public async Task<JsonObject> AckAsync(string envelopeId)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            while (true)
            {
                var message = await _received.Reader.ReadAsync(timeout.Token);
                if (message["envelope_id"]?.GetValue<string>() == envelopeId)
                {
                    return message;
                }
            }
        }

        /// <summary>Drops the TCP connection without a close handshake, as a network failure does.</summary>
        public void Drop() => socket.Abort();

        public Task Closed => _closed.Task;
    }
}

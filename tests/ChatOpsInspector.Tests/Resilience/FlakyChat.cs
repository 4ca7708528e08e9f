using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Routing;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace ChatOpsInspector.Tests.Resilience;

/// <summary>
/// A chat API on loopback that refuses a share of calls with 429 (Retry-After) or 500 without doing
/// anything, and counts what it did accept: cards per group and notes per group.
/// </summary>
public sealed class FlakyChatApi : IAsyncDisposable
{
    private long _calls;
    private long _ts;

    public FakeServer Server { get; private set; } = null!;

    /// <summary>Out of every ten calls, how many fail.</summary>
    public int FailuresPerTen { get; set; }

    public ConcurrentDictionary<string, int> Cards { get; } = new();
    public ConcurrentDictionary<string, int> Updates { get; } = new();
    public ConcurrentQueue<(string Group, string Text)> Notes { get; } = new();
    private long _refused;

    public long Refused => Interlocked.Read(ref _refused);

    public static async Task<FlakyChatApi> StartAsync(int failuresPerTen = 0)
    {
        var api = new FlakyChatApi { FailuresPerTen = failuresPerTen };
        api.Server = await FakeServer.StartAsync((app, _) =>
        {
            app.MapPost("/{method}", async (string method, HttpContext context) =>
            {
                var call = Interlocked.Increment(ref api._calls);
                var body = await context.Request.ReadFromJsonAsync<ChatCall>();
                if (call % 10 < api.FailuresPerTen)
                {
                    Interlocked.Increment(ref api._refused);
                    if (call % 2 == 0)
                    {
                        context.Response.Headers.RetryAfter = "0";
                        return Results.StatusCode(429);
                    }
                    return Results.StatusCode(500);
                }
                switch (method)
                {
                    case "post":
                        api.Cards.AddOrUpdate(body!.Group, 1, (_, n) => n + 1);
                        // The message id carries its group, so a note in its thread can be traced to the group from any replica.
                        return Results.Json(new { id = $"{body.Group}.{Interlocked.Increment(ref api._ts)}" });
                    case "update":
                        api.Updates.AddOrUpdate(body!.Group, 1, (_, n) => n + 1);
                        return Results.Json(new { id = body.Group });
                    default:
                        api.Notes.Enqueue((body!.Group, body.Text));
                        return Results.Json(new { id = "note" });
                }
            });
        });
        return api;
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

public sealed record ChatCall(string Channel, string Group, string Text);

/// <summary>
/// The chat adapter port implemented over <see cref="FlakyChatApi"/>: only translation, as the port
/// promises; retries, rate limits and remembering card refs stay with the dispatcher under test.
/// </summary>
internal sealed class HttpTestChatAdapter(FlakyChatApi api) : IChatAdapter
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri(api.Server.BaseUrl) };

    public string Platform => "test";

    public string? ChannelFor(OwnerRoute route) => "C-" + route.Owner;

    public Task<ChatResult> PostCardAsync(string channel, AlertCardView card, CancellationToken cancellationToken) =>
        SendAsync("post", channel, card.GroupId, card.FallbackText, channel, cancellationToken);

    public Task<ChatResult> UpdateCardAsync(ChatMessageRef message, AlertCardView card, CancellationToken cancellationToken) =>
        SendAsync("update", message.Channel, card.GroupId, card.FallbackText, message.Channel, cancellationToken, message.MessageId);

    public Task<ChatResult> PostNoteAsync(string channel, ChatMessageRef? thread, ChatNote note, CancellationToken cancellationToken) =>
        SendAsync("note", channel, thread?.MessageId is { } id ? GroupOfMessage(id) : "", note.Text, channel, cancellationToken);

    private static string GroupOfMessage(string id) => id.Split('.')[0];

    private async Task<ChatResult> SendAsync(string method, string channel, string group, string text, string refChannel, CancellationToken cancellationToken, string? existingId = null)
    {
        try
        {
            using var response = await _http.PostAsJsonAsync(method, new ChatCall(channel, group, text), cancellationToken);
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                return ChatResult.Retry(response.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, "ratelimited");
            }
            if (!response.IsSuccessStatusCode)
            {
                return ChatResult.Retry(null, $"http_{(int)response.StatusCode}");
            }
            var id = (await response.Content.ReadFromJsonAsync<MessageId>(cancellationToken))!.Id;
            return ChatResult.Ok(new ChatMessageRef(Platform, refChannel, existingId ?? id));
        }
        catch (HttpRequestException ex)
        {
            return ChatResult.Retry(null, ex.Message);
        }
    }

    private sealed record MessageId(string Id);
}

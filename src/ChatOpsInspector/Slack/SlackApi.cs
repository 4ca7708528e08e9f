using System.Text.RegularExpressions;
using System.Text.Json.Nodes;
using ChatOpsInspector.Commands;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Slash commands and the Events API. Every handler answers within Slack's 3 seconds: fast answers
/// inline, state changes and slow lookups through <see cref="SlackWorkQueue"/>.
/// </summary>
internal static partial class SlackApi
{
    public static async Task<IResult> CommandAsync(
        HttpContext context,
        CommandHandler handler,
        SlackWorkQueue work,
        SlackRetryGuard retries,
        IOptionsMonitor<SlackOptions> options,
        TimeProvider time,
        ILoggerFactory loggers,
        CancellationToken cancellationToken)
    {
        var form = SlackPayload.Form(SlackRequestFilter.VerifiedBody(context));
        var userId = form.Field("user_id");
        if (string.IsNullOrEmpty(userId))
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid slash command", detail: "user_id is missing.");
        }
        var settings = options.CurrentValue;
        if (form.Field("trigger_id") is { Length: > 0 } trigger && !await retries.FirstTimeAsync("cmd:" + trigger, settings.RetryMemory, cancellationToken))
        {
            return Results.Ok();
        }
        var command = CommandParser.Parse(form.Field("text"));
        var job = new SlackJob
        {
            Kind = SlackJobKind.Command,
            UserId = userId,
            UserName = form.Field("user_name"),
            TeamId = form.Field("team_id"),
            ChannelId = form.Field("channel_id"),
            ResponseUrl = form.Field("response_url"),
            Text = form.Field("text") ?? "",
        };
        if (command.ChangesState || command.IsSlow)
        {
            await work.EnqueueAsync(job, cancellationToken);
            return Reply(new CommandReply { Text = $"On it: /vulns {Clip(job.Text)}" }, time);
        }
        if (command.Kind is CommandKind.Help or CommandKind.Invalid)
        {
            return Reply(await handler.HandleAsync(command, SlackInteractions.QuickActor(job), cancellationToken), time);
        }
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(settings.InlineBudget);
        try
        {
            return Reply(await handler.HandleAsync(command, SlackInteractions.QuickActor(job), budget.Token), time);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // Too slow to answer inline: finish it in the background and answer through response_url.
            LogSlowCommand(loggers.CreateLogger(typeof(SlackApi)), command.Kind);
            await work.EnqueueAsync(job, cancellationToken);
            return Reply(new CommandReply { Text = "Still looking; the answer follows in a moment." }, time);
        }
    }

    public static async Task<IResult> EventAsync(
        HttpContext context,
        SlackWorkQueue work,
        SlackRetryGuard retries,
        IOptionsMonitor<SlackOptions> options,
        CancellationToken cancellationToken)
    {
        var payload = SlackPayload.ParseObject(System.Text.Encoding.UTF8.GetString(SlackRequestFilter.VerifiedBody(context)));
        if (payload is null)
        {
            return Results.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid event", detail: "The body is not a JSON object.");
        }
        switch (payload["type"].Str())
        {
            case "url_verification":
                return Results.Json(new JsonObject { ["challenge"] = payload["challenge"].Str() ?? "" });
            case "event_callback":
                break;
            default:
                return Results.Ok();
        }
        var eventId = payload["event_id"].Str();
        if (eventId is not null && !await retries.FirstTimeAsync("evt:" + eventId, options.CurrentValue.RetryMemory, cancellationToken))
        {
            return Results.Ok();
        }
        if (payload["event"] is not JsonObject evt || evt["type"].Str() != "app_mention" || evt["bot_id"] is not null)
        {
            return Results.Ok();
        }
        if (evt["user"].Str() is not { Length: > 0 } user || evt["channel"].Str() is not { Length: > 0 } channel)
        {
            return Results.Ok();
        }
        var job = new SlackJob
        {
            Kind = SlackJobKind.Mention,
            UserId = user,
            TeamId = evt["user_team"].Str() ?? payload["team_id"].Str(),
            ChannelId = channel,
            ThreadTs = evt["thread_ts"].Str() ?? evt["ts"].Str(),
            Text = CommandTextOfMention(evt["text"].Str()),
        };
        try
        {
            await work.EnqueueAsync(job, cancellationToken);
        }
        catch when (eventId is not null)
        {
            await retries.ForgetAsync("evt:" + eventId, CancellationToken.None);
            throw;
        }
        return Results.Ok();
    }

    /// <summary><c>&lt;@U123&gt; vulns my-app</c> → <c>my-app</c>: the mention and an optional leading "vulns" go.</summary>
    public static string CommandTextOfMention(string? text)
    {
        var rest = LeadingMention().Replace(text ?? "", "", 1).Trim();
        return LeadingVulns().Replace(rest, "", 1).Trim();
    }

    private static IResult Reply(CommandReply reply, TimeProvider time) =>
        Results.Text(SlackReplies.Message(reply, time.GetUtcNow()).ToJsonString(), "application/json; charset=utf-8");

    private static string Clip(string? text) => text is null ? "" : text.Length <= 60 ? text : text[..60] + "…";

    [GeneratedRegex(@"^\s*<@[A-Z0-9]+(\|[^>]*)?>")]
    private static partial Regex LeadingMention();

    [GeneratedRegex(@"^/?vulns\b", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingVulns();

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack command {Kind} exceeded the inline budget; answering via response_url")]
    private static partial void LogSlowCommand(ILogger logger, CommandKind kind);
}

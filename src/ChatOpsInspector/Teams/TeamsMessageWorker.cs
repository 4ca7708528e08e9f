using System.Threading.Channels;
using ChatOpsInspector.Operations;

namespace ChatOpsInspector.Teams;

/// <summary>
/// Messages typed to the bot, answered after the HTTP request has returned. Held in memory: a reply
/// lost to a restart is retyped by the user, unlike alert cards, which go through the durable outbox.
/// </summary>
internal sealed class TeamsMessageQueue
{
    private readonly Channel<Activity> _channel = Channel.CreateBounded<Activity>(
        new BoundedChannelOptions(1000) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

    public bool TryEnqueue(Activity activity) => _channel.Writer.TryWrite(activity);

    public ChannelReader<Activity> Reader => _channel.Reader;
}

internal sealed partial class TeamsMessageWorker(
    TeamsMessageQueue queue,
    TeamsCommands commands,
    ConnectorClient connector,
    CardViewers viewers,
    TeamsPeople people,
    ILogger<TeamsMessageWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var activity in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    await AnswerAsync(activity, stoppingToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
                {
                    AppMetrics.Errors.WithLabels("teams").Inc();
                    LogAnswerFailed(ex, activity.Conversation?.Id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    internal async Task AnswerAsync(Activity activity, CancellationToken cancellationToken)
    {
        if (await people.ActorAsync(activity, cancellationToken) is not { } actor || activity.ServiceUrl is not { } serviceUrl || activity.Conversation?.Id is not { } conversation)
        {
            return;
        }
        var reply = await commands.RunAsync(activity, actor, cancellationToken);
        var messages = new List<Activity>();
        if (reply.Text.Length > 0)
        {
            messages.Add(new Activity { Type = "message", TextFormat = "markdown", Text = Markdown(reply.Text) });
        }
        if (reply.Chart is { } chart)
        {
            messages.Add(new Activity
            {
                Type = "message",
                Summary = TeamsText.Cut(chart.Title, 200),
                Attachments = [new Attachment(AlertCardRenderer.ContentType, ChartCard.Render(chart))],
            });
        }
        // One card per message: a message holding several full cards would pass Teams' size limit.
        messages.AddRange(reply.Cards.Take(TeamsCommands.MaxCards).Select(view => new Activity
        {
            Type = "message",
            Summary = TeamsText.Cut(view.FallbackText, 200),
            Attachments = [new Attachment(AlertCardRenderer.ContentType, AlertCardRenderer.Render(view, viewers.ForUser(view, actor)))],
        }));
        if (reply.Public || IsPersonal(activity))
        {
            await SendAllAsync(serviceUrl, conversation, activity.Id, messages, cancellationToken);
            return;
        }

        // Teams has no ephemeral messages in channels or group chats: what Slack would show only to the
        // asker goes to the asker's personal chat, and the thread learns only where the answer went.
        var chat = activity.TenantId is { Length: > 0 } tenant && activity.Recipient?.Id is { Length: > 0 } botId && activity.From?.Id is { Length: > 0 } userId
            ? await connector.CreatePersonalChatAsync(serviceUrl, tenant, botId, userId, cancellationToken)
            : new ConnectorResult(null, "no tenant, bot or user id on the activity");
        if (!chat.Ok || string.IsNullOrEmpty(chat.Id))
        {
            LogPersonalChatFailed(conversation, chat.Error);
            await SendAllAsync(serviceUrl, conversation, activity.Id, [Note(CannotAnswerPrivately)], cancellationToken);
            return;
        }
        if (await SendAllAsync(serviceUrl, chat.Id, null, messages, cancellationToken))
        {
            await SendAllAsync(serviceUrl, conversation, activity.Id, [Note(AnsweredInPersonalChat)], cancellationToken);
        }
    }

    public const string AnsweredInPersonalChat = "I've sent you the answer in our chat.";

    public const string CannotAnswerPrivately =
        "I can't answer that here: the answer is only for you, and I couldn't open a chat with you. Write to me in a personal chat.";

    private static bool IsPersonal(Activity activity) => activity.Conversation?.ConversationType == "personal";

    private static Activity Note(string text) => new() { Type = "message", TextFormat = "markdown", Text = Markdown(text) };

    private async Task<bool> SendAllAsync(string serviceUrl, string conversation, string? replyToId, IReadOnlyList<Activity> messages, CancellationToken cancellationToken)
    {
        foreach (var message in messages)
        {
            var result = await connector.SendAsync(serviceUrl, conversation, replyToId, message, cancellationToken);
            if (!result.Ok)
            {
                LogReplyFailed(conversation, result.Error);
                return false;
            }
        }
        return true;
    }

    /// <summary>Plain command text as Teams markdown: escaped, each line its own paragraph.</summary>
    internal static string Markdown(string text) =>
        string.Join("\n\n", TeamsText.Cut(text, 20_000).Split('\n').Select(line => TeamsText.Escape(line.TrimEnd())).Where(line => line.Length > 0));

    [LoggerMessage(Level = LogLevel.Error, Message = "Answering a Teams message in {Conversation} failed")]
    private partial void LogAnswerFailed(Exception ex, string? conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply to Teams conversation {Conversation} failed: {Error}")]
    private partial void LogReplyFailed(string conversation, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "No personal chat for a private answer to a message in {Conversation}: {Error}")]
    private partial void LogPersonalChatFailed(string conversation, string? error);
}

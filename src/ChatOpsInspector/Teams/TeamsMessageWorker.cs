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
        // One card per message: a message holding several full cards would pass Teams' size limit.
        messages.AddRange(reply.Cards.Take(TeamsCommands.MaxCards).Select(view => new Activity
        {
            Type = "message",
            Summary = TeamsText.Cut(view.FallbackText, 200),
            Attachments = [new Attachment(AlertCardRenderer.ContentType, AlertCardRenderer.Render(view, viewers.ForUser(view, actor)))],
        }));
        foreach (var message in messages)
        {
            var result = await connector.SendAsync(serviceUrl, conversation, activity.Id, message, cancellationToken);
            if (!result.Ok)
            {
                LogReplyFailed(conversation, result.Error);
                return;
            }
        }
    }

    /// <summary>Plain command text as Teams markdown: escaped, each line its own paragraph.</summary>
    internal static string Markdown(string text) =>
        string.Join("\n\n", TeamsText.Cut(text, 20_000).Split('\n').Select(line => TeamsText.Escape(line.TrimEnd())).Where(line => line.Length > 0));

    [LoggerMessage(Level = LogLevel.Error, Message = "Answering a Teams message in {Conversation} failed")]
    private partial void LogAnswerFailed(Exception ex, string? conversation);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply to Teams conversation {Conversation} failed: {Error}")]
    private partial void LogReplyFailed(string conversation, string? error);
}

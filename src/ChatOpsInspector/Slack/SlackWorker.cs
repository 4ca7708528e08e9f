using System.Text.Json;
using System.Text.Json.Nodes;
using ChatOpsInspector.Cards;
using ChatOpsInspector.Commands;
using ChatOpsInspector.Operations;
using ChatOpsInspector.State;
using ChatOpsInspector.Workflow;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Slack;

/// <summary>
/// Finishes Slack work after the 3-second answer: triage actions, slow commands, mentions, notices.
/// Items are leased from the durable queue, so work claimed by a replica that dies is done by another.
/// </summary>
internal sealed partial class SlackWorker(
    IWorkQueue queue,
    SlackWorkQueue work,
    SlackApiClient slack,
    SlackUsers users,
    TriageService triage,
    CommandHandler commands,
    TimeProvider time,
    IOptionsMonitor<SlackOptions> options,
    ILogger<SlackWorker> logger) : BackgroundService
{
    private const int MaxAttempts = 6;
    private static readonly TimeSpan Lease = TimeSpan.FromSeconds(60);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await DrainAsync(stoppingToken) > 0)
                {
                    continue;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                AppMetrics.Errors.WithLabels("slack_worker").Inc();
                LogLoopFailed(ex);
            }
            await work.WaitAsync(options.CurrentValue.WorkPollInterval, stoppingToken);
        }
    }

    /// <summary>One pass over due items; returns how many were handled.</summary>
    public async Task<int> DrainAsync(CancellationToken cancellationToken)
    {
        var items = await queue.ClaimAsync(SlackWorkQueue.Name, 16, Lease, time.GetUtcNow(), cancellationToken);
        await Parallel.ForEachAsync(items, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken },
            async (item, ct) => await RunAsync(item, ct));
        return items.Count;
    }

    private async Task RunAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var job = item.Payload is null ? null : JsonSerializer.Deserialize(item.Payload, SlackJson.Default.SlackJob);
        if (job is null)
        {
            await queue.CompleteAsync(SlackWorkQueue.Name, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        SlackJob? retry;
        try
        {
            if (job.Kind == SlackJobKind.Triage && job.Outcome is null)
            {
                if (await DecideAsync(job, cancellationToken) is not { } decided)
                {
                    await queue.CompleteAsync(SlackWorkQueue.Name, item, time.GetUtcNow(), cancellationToken);
                    return;
                }
                job = decided;
            }
            retry = job.Kind switch
            {
                SlackJobKind.Triage => await ReplyAsync(job, SlackReplies.Ephemeral(job.Outcome!), cancellationToken),
                SlackJobKind.Command => await CommandAsync(job, cancellationToken),
                SlackJobKind.Mention => await MentionAsync(job, cancellationToken),
                _ => await ReplyAsync(job, SlackReplies.Ephemeral(job.Text ?? ""), cancellationToken),
            };
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested && job.Kind == SlackJobKind.Triage && job.Outcome is not null)
        {
            // Shutting down after the action ran but before its answer was confirmed: keep the outcome, so the
            // next replica answers with it instead of running the action again.
            await queue.EnqueueAsync(SlackWorkQueue.Name, item.Id, JsonSerializer.Serialize(job, SlackJson.Default.SlackJob),
                time.GetUtcNow(), CancellationToken.None);
            throw;
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            AppMetrics.Errors.WithLabels("slack_worker").Inc();
            LogJobFailed(ex, job.Kind, job.GroupId);
            retry = job;
        }
        if (retry is null)
        {
            await queue.CompleteAsync(SlackWorkQueue.Name, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        var attempts = retry.Attempts + 1;
        if (attempts >= MaxAttempts)
        {
            AppMetrics.Errors.WithLabels("slack").Inc();
            LogGaveUp(job.Kind, job.GroupId, attempts);
            await queue.CompleteAsync(SlackWorkQueue.Name, item, time.GetUtcNow(), cancellationToken);
            return;
        }
        var backoff = TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, attempts)));
        var delay = retry.RetryAfter is { } asked && asked > TimeSpan.Zero ? asked : backoff;
        LogRetrying(job.Kind, job.GroupId, attempts, delay);
        await queue.EnqueueAsync(SlackWorkQueue.Name, item.Id, JsonSerializer.Serialize(retry with { Attempts = attempts, RetryAfter = null }, SlackJson.Default.SlackJob),
            time.GetUtcNow() + delay, cancellationToken);
    }

    /// <summary>Runs the action once and keeps its outcome on the job; the answer is then sent (and retried) alone.</summary>
    private async Task<SlackJob?> DecideAsync(SlackJob job, CancellationToken cancellationToken)
    {
        var action = CardActionIds.Parse(job.Action);
        if (action is null || job.GroupId is null)
        {
            return null;
        }
        var actor = await users.ActorAsync(job.UserId, job.UserName, job.ChannelId, job.TeamId, cancellationToken);
        var assignee = job.AssigneeId is null ? null : await users.ActorAsync(job.AssigneeId, null, null, job.TeamId, cancellationToken);
        var result = await triage.ExecuteAsync(new TriageRequest(job.GroupId, action.Value, actor)
        {
            Assignee = assignee,
            Reason = job.Reason,
            ExpiresAt = job.ExpiresAt,
            PatchRequestId = job.PatchRequestId,
        }, cancellationToken);
        LogTriage(job.GroupId, action.Value, result.Succeeded);
        return job with { Outcome = (result.Succeeded ? ":white_check_mark: " : ":no_entry: ") + result.Message };
    }

    private async Task<SlackJob?> CommandAsync(SlackJob job, CancellationToken cancellationToken)
    {
        if (job.Outcome is not null)
        {
            return await ReplyAsync(job, SlackReplies.Ephemeral(job.Outcome), cancellationToken);
        }
        var command = CommandParser.Parse(job.Text);
        var actor = await users.ActorAsync(job.UserId, job.UserName, job.ChannelId, job.TeamId, cancellationToken);
        var reply = WithChartNote(await commands.HandleAsync(command, actor, cancellationToken));
        var message = SlackReplies.Message(reply, time.GetUtcNow());
        var retry = await ReplyAsync(job, message, cancellationToken);
        if (retry is null)
        {
            await ShareChartAsync(job, reply, threadTs: null, cancellationToken);
        }
        // A state change is not run twice: a retry only repeats its answer.
        return retry is not null && command.ChangesState ? retry with { Outcome = reply.Text } : retry;
    }

    private async Task<SlackJob?> MentionAsync(SlackJob job, CancellationToken cancellationToken)
    {
        if (job.ChannelId is null)
        {
            return null;
        }
        var text = job.Outcome;
        CommandReply? chart = null;
        JsonArray? blocks = null;
        var share = false;
        if (text is null)
        {
            var command = CommandParser.Parse(job.Text);
            var actor = await users.ActorAsync(job.UserId, job.UserName, job.ChannelId, job.TeamId, cancellationToken);
            var reply = WithChartNote(await commands.HandleAsync(command, actor, cancellationToken));
            chart = reply;
            text = SlackReplies.Text(reply);
            blocks = SlackReplies.Blocks(reply, time.GetUtcNow());
            share = reply.Share;
            if (command.ChangesState)
            {
                job = job with { Outcome = text };
            }
        }
        // Answers are private, as for the slash command, unless --share was asked and is allowed here.
        var result = share
            ? await slack.PostMessageAsync(job.ChannelId, text, blocks, job.ThreadTs, cancellationToken)
            : await slack.PostEphemeralAsync(job.ChannelId, job.UserId, text, blocks, cancellationToken, job.ThreadTs);
        var retry = Retryable(result, job);
        if (retry is null && chart is not null)
        {
            await ShareChartAsync(job, chart, job.ThreadTs, cancellationToken);
        }
        return retry;
    }

    /// <summary>Says where the chart goes: a file cannot be ephemeral in Slack, so a private answer's chart goes to a direct message.</summary>
    private static CommandReply WithChartNote(CommandReply reply) => reply.Chart is null ? reply : reply with
    {
        Text = reply.Text + (reply.Share ? "\n(The chart follows in this channel.)" : "\n(The chart follows in your direct messages with the bot.)"),
    };

    /// <summary>
    /// Uploads the reply's chart where the reply may be seen: the channel when the answer was shared there
    /// (allowed by the access model), else the asker's direct messages with the bot. Once, after the answer:
    /// a failure is logged and counted, not retried with the answer.
    /// </summary>
    private async Task ShareChartAsync(SlackJob job, CommandReply reply, string? threadTs, CancellationToken cancellationToken)
    {
        if (reply.Chart is not { } chart)
        {
            return;
        }
        var channel = reply.Share ? job.ChannelId : await slack.OpenDirectMessageAsync(job.UserId, cancellationToken);
        var result = channel is null
            ? SlackApiResult.Failure("no_direct_message_channel")
            : await slack.UploadFileAsync(channel, reply.Share ? threadTs : null, chart.FileName, chart.Png, chart.Title, chart.AltText,
                SlackText.EscapeTruncate(chart.Title, 1000), cancellationToken);
        if (!result.Ok)
        {
            AppMetrics.Errors.WithLabels("slack").Inc();
            LogChartFailed(job.UserId, result.Error);
        }
    }

    /// <summary>Answers through the response_url when there is one, else with chat.postEphemeral.</summary>
    private async Task<SlackJob?> ReplyAsync(SlackJob job, JsonObject message, CancellationToken cancellationToken)
    {
        SlackApiResult result;
        if (job.ResponseUrl is { } url && options.CurrentValue.IsAllowedResponseUrl(url))
        {
            result = await slack.RespondAsync(url, message, cancellationToken);
        }
        else if (job.ChannelId is { } channel)
        {
            result = await slack.PostEphemeralAsync(channel, job.UserId, message["text"].Str() ?? "", message["blocks"]?.DeepClone() as JsonArray, cancellationToken);
        }
        else
        {
            return null;
        }
        return Retryable(result, job);
    }

    private SlackJob? Retryable(SlackApiResult result, SlackJob job)
    {
        if (result.Ok)
        {
            return null;
        }
        if (result.Transient)
        {
            return job with { RetryAfter = result.RetryAfter };
        }
        AppMetrics.Errors.WithLabels("slack").Inc();
        LogReplyFailed(job.Kind, result.Error);
        return null;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Slack triage {Action} on group {GroupId}: succeeded={Succeeded}")]
    private partial void LogTriage(string groupId, CardAction action, bool succeeded);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack chart for {UserId} not shared: {Error}")]
    private partial void LogChartFailed(string userId, string? error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Kind} reply failed for good: {Error}")]
    private partial void LogReplyFailed(SlackJobKind kind, string? error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slack {Kind} job for group {GroupId} failed; will retry")]
    private partial void LogJobFailed(Exception ex, SlackJobKind kind, string? groupId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Slack {Kind} job for group {GroupId} retried (attempt {Attempts}) in {Delay}")]
    private partial void LogRetrying(SlackJobKind kind, string? groupId, int attempts, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Gave up on Slack {Kind} job for group {GroupId} after {Attempts} attempts")]
    private partial void LogGaveUp(SlackJobKind kind, string? groupId, int attempts);

    [LoggerMessage(Level = LogLevel.Error, Message = "Slack worker pass failed; claimed work comes back after its lease")]
    private partial void LogLoopFailed(Exception ex);
}

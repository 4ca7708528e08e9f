using Amazon.SQS;
using Amazon.SQS.Model;
using ChatOpsInspector.Alerts;
using ChatOpsInspector.Findings;
using ChatOpsInspector.Operations;
using Microsoft.Extensions.Options;

namespace ChatOpsInspector.Ingest;

/// <summary>
/// Long-polls the SQS queue EventBridge also delivers to, feeds each event to the same pipeline and
/// deletes a message only once its finding is stored. Messages that can never parse are left for the
/// queue's redrive policy to move to the dead-letter queue.
/// </summary>
internal sealed partial class SqsPoller(
    FindingIngestor ingestor,
    IOptions<IngestOptions> options,
    IConfiguration configuration,
    IServiceProvider services,
    TimeProvider time,
    ILogger<SqsPoller> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var sqs = options.Value.Sqs;
        var config = new AmazonSQSConfig();
        if (!string.IsNullOrWhiteSpace(sqs.ServiceUrl))
        {
            config.ServiceURL = sqs.ServiceUrl;
            config.AuthenticationRegion = configuration["Aws:Region"] ?? "us-east-1";
        }
        else if (configuration["Aws:Region"] is { Length: > 0 } region)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(region);
        }
        // Credentials come from the SDK default chain unless the host registered its own.
        using var client = services.GetService<Amazon.Runtime.AWSCredentials>() is { } credentials
            ? new AmazonSQSClient(credentials, config)
            : new AmazonSQSClient(config);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PollOnceAsync(client, sqs, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                AppMetrics.Errors.WithLabels("sqs").Inc();
                LogPollFailed(ex);
                await Task.Delay(TimeSpan.FromSeconds(5), stoppingToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    internal async Task<int> PollOnceAsync(IAmazonSQS client, SqsOptions sqs, CancellationToken cancellationToken)
    {
        var response = await client.ReceiveMessageAsync(new ReceiveMessageRequest
        {
            QueueUrl = sqs.QueueUrl,
            MaxNumberOfMessages = sqs.MaxMessages,
            WaitTimeSeconds = sqs.WaitTimeSeconds,
        }, cancellationToken);
        var stored = 0;
        foreach (var message in response.Messages ?? [])
        {
            var errors = new List<string>();
            InspectorEvent? evt = null;
            using (var doc = StrictJson.Parse(message.Body ?? "", out var problem))
            {
                if (doc is null)
                {
                    errors.Add(problem!);
                }
                else
                {
                    evt = InspectorEventParser.ParseEvent(doc.RootElement, "$", time.GetUtcNow(), errors);
                }
            }
            if (evt is null)
            {
                AppMetrics.EventsRejected.WithLabels("sqs_invalid").Inc();
                LogBadMessage(message.MessageId, string.Join("; ", errors));
                continue;
            }
            await ingestor.IngestAsync([evt], cancellationToken);
            await client.DeleteMessageAsync(sqs.QueueUrl, message.ReceiptHandle, cancellationToken);
            stored++;
        }
        return stored;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "SQS poll failed; retrying")]
    private partial void LogPollFailed(Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "SQS message {MessageId} is not an Inspector event and is left for the dead-letter queue: {Errors}")]
    private partial void LogBadMessage(string messageId, string errors);
}

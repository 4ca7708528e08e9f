using System.Text.Json;
using Amazon.Runtime;
using ChatOpsInspector.State;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ChatOpsInspector.Tests.Ingest;

public sealed class SqsPollerTests
{
    [Fact]
    public async Task QueuedEventsAreStoredAndOnlyThenDeletedWhileBadMessagesStayForTheDeadLetterQueue()
    {
        var served = 0;
        var good = FindingEvents.Ec2("sqs-1").ToJsonString();
        await using var sqs = await FakeServer.StartAsync((app, _) => app.MapPost("/", async (HttpContext http) =>
        {
            var target = http.Request.Headers["X-Amz-Target"].ToString();
            if (target == "AmazonSQS.ReceiveMessage")
            {
                if (Interlocked.Increment(ref served) == 1)
                {
                    var body = JsonSerializer.Serialize(new
                    {
                        Messages = new[]
                        {
                            new { MessageId = "m1", ReceiptHandle = "rh-good", Body = good, MD5OfBody = Md5(good) },
                            new { MessageId = "m2", ReceiptHandle = "rh-bad", Body = "{\"not\":\"an event\"}", MD5OfBody = Md5("{\"not\":\"an event\"}") },
                        },
                    });
                    return Results.Text(body, "application/x-amz-json-1.0");
                }
                await Task.Delay(200);
                return Results.Text("{}", "application/x-amz-json-1.0");
            }
            return Results.Text("{}", "application/x-amz-json-1.0");
        }));

        await using var app = new TestApp(new()
        {
            ["Aws:Region"] = "eu-west-1",
            ["Ingest:Sqs:QueueUrl"] = sqs.BaseUrl + "123456789012/findings",
            ["Ingest:Sqs:ServiceUrl"] = sqs.BaseUrl,
            ["Ingest:Sqs:WaitTimeSeconds"] = "0",
        }, services => services.AddSingleton<AWSCredentials>(new BasicAWSCredentials("AKIDSQSTEST000000001", "secret")));
        app.Client();

        await TestApp.Eventually(() => Task.FromResult(sqs.Requests.Any(r => r.Headers.GetValueOrDefault("X-Amz-Target") == "AmazonSQS.DeleteMessage")), "message deleted");
        var deletes = sqs.Requests.Where(r => r.Headers.GetValueOrDefault("X-Amz-Target") == "AmazonSQS.DeleteMessage").ToList();
        Assert.Single(deletes);
        Assert.Contains("rh-good", deletes[0].Body, StringComparison.Ordinal);
        Assert.Single(await app.Service<IAlertStore>().OwnersAsync(default));
    }

    private static string Md5(string text) =>
#pragma warning disable CA5351 // SQS's own message checksum
        Convert.ToHexStringLower(System.Security.Cryptography.MD5.HashData(System.Text.Encoding.UTF8.GetBytes(text)));
#pragma warning restore CA5351
}

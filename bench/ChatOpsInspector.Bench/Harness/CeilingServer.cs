using System.Diagnostics;
using System.Text;

namespace ChatOpsInspector.Bench.Harness;

/// <summary>
/// The physical limit: Kestrel with one endpoint that reads the whole body and answers 202, run as its
/// own process like the bot, so the generator and the server split the cores the same way.
/// </summary>
internal static class CeilingServer
{
    private static readonly byte[] Answer = Encoding.UTF8.GetBytes("""{"accepted":1,"duplicates":0,"ignored":0}""");

    public static async Task RunAsync(int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        app.MapGet("/healthz", () => "ok");
        app.MapPost("/api/inspector/events", async (HttpContext context) =>
        {
            var buffer = new byte[16 * 1024];
            while (await context.Request.Body.ReadAsync(buffer) > 0)
            {
            }
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = "application/json";
            await context.Response.Body.WriteAsync(Answer);
        });
        await app.RunAsync();
    }

    /// <summary>Starts the ceiling server as a child process (this same executable).</summary>
    public static async Task<Process> StartAsync(int port)
    {
        var self = typeof(CeilingServer).Assembly.Location;
        var start = new ProcessStartInfo("dotnet") { ArgumentList = { self, "serve-ceiling", port.ToString() }, UseShellExecute = false };
        start.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(start)!;
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(1) };
        for (var i = 0; i < 200; i++)
        {
            try
            {
                if ((await http.GetAsync($"http://127.0.0.1:{port}/healthz")).IsSuccessStatusCode)
                {
                    return process;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        process.Kill();
        throw new InvalidOperationException("ceiling server did not start");
    }
}

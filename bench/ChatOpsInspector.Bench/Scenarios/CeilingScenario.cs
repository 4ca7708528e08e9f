using System.Diagnostics;
using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

/// <summary>Scenario 1: the same generator and bodies against a bare Kestrel endpoint.</summary>
internal static class CeilingScenario
{
    public static async Task<Report> RunAsync(BenchOptions options)
    {
        var report = new Report("ceiling");
        var result = await MeasureAsync(options.Count ?? (options.Quick ? 20_000 : 100_000), options.Concurrency ?? 64, options.Cap ?? TimeSpan.FromSeconds(120), report);
        report.AddLoad("ceiling", result);
        return report;
    }

    /// <summary>Runs the ceiling server as a child process and drives it with distinct 4–8 KB events.</summary>
    public static async Task<LoadResult> MeasureAsync(int count, int concurrency, TimeSpan cap, Report report)
    {
        var port = RedisProcess.FreePort();
        using var server = await CeilingServer.StartAsync(port);
        try
        {
            using var http = Load.Client(concurrency);
            var baseUrl = $"http://127.0.0.1:{port}/";
            await Load.RunAsync(Math.Min(2_000, count), concurrency, cap, i => Rig.PostEventAsync(http, baseUrl, Events.Bytes(Events.Distinct("ceilwarm", i))));
            var cpu0 = server.TotalProcessorTime;
            var self0 = Process.GetCurrentProcess().TotalProcessorTime;
            var result = await Load.RunAsync(count, concurrency, cap, i => Rig.PostEventAsync(http, baseUrl, Events.Bytes(Events.Distinct("ceil", i))));
            server.Refresh();
            var serverCores = (server.TotalProcessorTime - cpu0).TotalSeconds / result.Elapsed.TotalSeconds;
            var selfCores = (Process.GetCurrentProcess().TotalProcessorTime - self0).TotalSeconds / result.Elapsed.TotalSeconds;
            report.Note($"ceiling: server used {serverCores:0.00} cores, generator {selfCores:0.00} cores");
            return result;
        }
        finally
        {
            server.Kill();
            await server.WaitForExitAsync();
        }
    }
}

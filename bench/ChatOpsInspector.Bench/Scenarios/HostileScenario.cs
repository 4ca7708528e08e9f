using ChatOpsInspector.Bench.Harness;

namespace ChatOpsInspector.Bench.Scenarios;

internal static class HostileScenario
{
    public static Task<Report> RunAsync(BenchOptions options) => Task.FromResult(new Report("hostile"));
}

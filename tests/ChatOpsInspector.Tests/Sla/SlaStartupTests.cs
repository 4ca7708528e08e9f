using ChatOpsInspector.Sla;
using ChatOpsInspector.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace ChatOpsInspector.Tests.Sla;

public sealed class SlaStartupTests
{
    [Fact]
    public void AppRunsTheSlaSchedulerInTheBackground()
    {
        using var app = new TestApp();
        app.Client();

        Assert.Contains(app.Services.GetServices<IHostedService>(), s => s is SlaScheduler);
    }

    [Theory]
    [InlineData("Sla:QuietHours:payments:TimeZone", "Mars/Olympus_Mons", "Sla:QuietHours TimeZone")]
    [InlineData("Sla:DigestTimeUtc", "1.02:00:00", "Sla:DigestTimeUtc")]
    [InlineData("Sla:Scheduler:Lease", "00:00:00", "Sla:Scheduler")]
    public void BadSlaSettingFailsAtStartup(string key, string value, string named)
    {
        using var app = new TestApp(new() { [key] = value });

        var error = Assert.ThrowsAny<Exception>(() => app.Client());

        var validation = Assert.IsType<Microsoft.Extensions.Options.OptionsValidationException>(error.GetBaseException());
        Assert.Contains(validation.Failures, f => f.StartsWith(named, StringComparison.Ordinal));
    }
}

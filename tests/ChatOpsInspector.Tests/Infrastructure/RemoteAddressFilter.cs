using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace ChatOpsInspector.Tests.Infrastructure;

/// <summary>
/// Presents every connection as coming from <paramref name="address"/>, as a router or NAT presents a
/// remote caller: the test host itself only listens on loopback.
/// </summary>
public sealed class RemoteAddressFilter(IPAddress address) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use((context, nextMiddleware) =>
        {
            context.Connection.RemoteIpAddress = address;
            return nextMiddleware(context);
        });
        next(app);
    };
}

using Microsoft.Playwright;

namespace DePIN.Silo.Tests;

/// <summary>
/// Debian's Chromium (<c>/usr/bin/chromium</c>, which <c>.ci/run</c> installs), headless, driven by Playwright. Each
/// page keeps the console errors and uncaught exceptions it saw, so that a test can require none.
/// </summary>
public sealed class Browser : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    private IPlaywright? _playwright;
    private IBrowser? _browser;

    /// <summary>Where screenshots go: TestResults/explorer under the repository (ignored by git).</summary>
    public static string Screenshots { get; } = Path.Combine(DePIN.Testing.Repository.Root, "TestResults", "explorer");

    public async ValueTask InitializeAsync()
    {
        if (!File.Exists(Chromium))
        {
            throw new InvalidOperationException($"{Chromium} is missing: apt-get install chromium (.ci/run does).");
        }

        _playwright = await Playwright.CreateAsync();
        // The flags a closed network and a root user need: no sandbox, no background calls home.
        _browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"],
        });
        Directory.CreateDirectory(Screenshots);
    }

    /// <summary>A new page 1400×900 at <paramref name="baseUrl"/>, and the list its console errors go to.</summary>
    public async Task<(IPage Page, List<string> Errors)> NewPage(string baseUrl)
    {
        var page = await _browser!.NewPageAsync(new() { BaseURL = baseUrl, ViewportSize = new() { Width = 1400, Height = 900 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (errors)
                {
                    errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (errors)
            {
                errors.Add($"uncaught: {error}");
            }
        };
        return (page, errors);
    }

    public async ValueTask DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.DisposeAsync();
        }

        _playwright?.Dispose();
    }
}

using System.Diagnostics;

namespace DePIN.Testing;

/// <summary>Runs a command to completion.</summary>
public static class ProcessRunner
{
    /// <summary>Runs the command and returns its output; fails with the output when it exits non-zero.</summary>
    public static async Task<string> Run(string file, IEnumerable<string> arguments, TimeSpan? timeout = null, string? workingDirectory = null)
    {
        var list = arguments.ToList();
        var (exitCode, output, error) = await Capture(file, list, timeout, workingDirectory);
        return exitCode == 0
            ? output + error
            : throw new InvalidOperationException($"{file} {string.Join(' ', list)} exited with {exitCode}:\n{output}{error}");
    }

    /// <summary>
    /// Runs the command, with <paramref name="environment"/> added and <paramref name="input"/> on its standard input,
    /// and returns its exit code, standard output and standard error.
    /// </summary>
    public static async Task<(int ExitCode, string Output, string Error)> Capture(
        string file, IEnumerable<string> arguments, TimeSpan? timeout = null, string? workingDirectory = null,
        IReadOnlyDictionary<string, string>? environment = null, string? input = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardInput = input is not null,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            info.Environment[name] = value;
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {file}.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            await process.StandardInput.WriteAsync(input);
            process.StandardInput.Close();
        }

        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(2));
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', info.ArgumentList)} did not finish in time.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }
}

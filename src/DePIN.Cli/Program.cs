using DePIN.Cli;

return args switch
{
    ["demo", ..] => await DemoCommands.Run(args is [_, "weather", .. var rest] ? rest : ["--help"], Console.Out, Console.Error),
    ["ledger", .. var rest] => await LedgerCommands.Run(rest, Console.Out, Console.Error),
    ["dataset", ..] => await DatasetCommands.Run(args, Console.Out, Console.Error),
    _ => await Usage(),
};

static async Task<int> Usage()
{
    await Console.Error.WriteLineAsync(string.Join(Environment.NewLine, DatasetCommands.Usage, LedgerCommands.Usage, DemoCommands.Usage));
    return 2;
}

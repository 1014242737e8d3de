import ArgumentParser
import Foundation
import Shepherd

/// `etcd-shepherd config show`: the configuration the daemon runs with — the file and its `config.d/*.json`
/// drop-ins merged in name order — and which file set each key.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "Show the configuration as the daemon reads it.", subcommands: [Show.self])

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print the merged configuration (the file, then config.d/*.json beside it, in name order) and "
                + "each key's origin.",
            discussion: ExitHelp.text([(0, "shown, and valid"), (2, "a file is unreadable, or the result is invalid")]))
        @OptionGroup var options: ConfigOption
        @OptionGroup var output: OutputOption

        func run() throws {
            let sources: ConfigSources
            do { sources = try Config.sources(path: options.path) } catch {
                throw Failure(code: Exit.usage, message: "\(error)")
            }
            // Shown even when invalid (when it is needed most), then judged as the daemon would.
            var problem: String?
            do { _ = try options.load() } catch let f as Failure { problem = f.message }
            if output.isJSON {
                try output.print(ConfigShown(sources, problem: problem))
            } else {
                print("# merged in this order: \(sources.files.joined(separator: ", "))")
                print(sources.json())
                print("# where each key comes from:")
                for key in sources.origins.keys.sorted() { print("#   \(key)  \(sources.origins[key]!)") }
            }
            if let problem { throw Failure(code: Exit.usage, message: problem) }
        }
    }
}

// The sequences of one request: LoRAX's best_of, OpenAI's n and best_of. Each sequence is its own
// engine request, waited on together. With the engine's prefix cache on, they share the prompt's
// KV blocks: the first sequence is submitted alone, and the others once it has produced its
// first event, by which time its prompt's full blocks are published, so each of them computes
// only the tail the cache cannot give (at most a block; the last prompt token is always
// computed). Without the cache, with prompt logprobs (which compute the whole prompt), or with a
// prompt of less than a full block, all are submitted at once.
//
//   RunGroup group(service, tokenizer, prepared, 3, metrics);
//   group.set_notify(wake);   // called from the engine thread when a run has an event
//   while (auto event = group.try_next()) { ... event->run, event->step }
//   group.ranked()  // best mean token logprob first
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "server/generation_run.h"

namespace lorax {

class RunGroup {
 public:
  struct Event {
    size_t run = 0;  // which sequence
    GenerationRun::Step step;
  };

  // Submits `count` runs (the first alone when they can share its prompt, see above). The first
  // keeps the prepared seed; the others get the seed + i when the request gave one
  // (reproducible), a random one otherwise. Throws what GenerationRun throws; runs already
  // submitted are cancelled as the group unwinds.
  RunGroup(EngineService& service, const Tokenizer* tokenizer, const PreparedGeneration& prepared,
           int count, Metrics& metrics, bool seed_given);

  // The next step already arrived of any unfinished run, without waiting: nullopt when none has
  // one. Submits the runs held back for the first one's prompt (throwing what GenerationRun
  // throws) once it has its first event.
  std::optional<Event> try_next();
  // Called from the engine thread when any run, present or submitted later, has an event.
  void set_notify(std::function<void()> notify);
  bool finished() const;
  // Whether any run ended without finishing (the engine dropped it).
  bool any_cancelled() const;

  // Runs submitted or held back; a run is reachable through [] once submitted (always, once an
  // event names it or the group has finished).
  size_t size() const { return runs_.size(); }
  GenerationRun& operator[](size_t i) { return *runs_[i]; }
  const GenerationRun& operator[](size_t i) const { return *runs_[i]; }
  // Run indices by mean token logprob, best first (ties: the earlier run).
  std::vector<size_t> ranked() const;

 private:
  std::optional<Event> poll(size_t i);
  void submit_held_back();

  EngineService& service_;
  const Tokenizer* tokenizer_;
  Metrics& metrics_;
  std::vector<std::unique_ptr<GenerationRun>> runs_;  // null: held back until the first's event
  std::vector<PreparedGeneration> held_back_;         // for runs_[1...], while they are null
  size_t cursor_ = 0;  // where the next look for a ready run starts (round robin)
  std::function<void()> notify_;
};

}  // namespace lorax

// Builds @llm-callbacks/core with the shared recipe (tsup.shared.ts at the repository root).
import { libraryBuild } from '../../tsup.shared.js';

export default libraryBuild();

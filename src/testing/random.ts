export { seededRandom } from '../tcp/random.js';
